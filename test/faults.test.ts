// faults.test.ts — the fault matrix (issue 17, item 12): commands killed mid-way, interfaces
// renamed, moved or of the same name in two namespaces, a full disk, pins removed or replaced from
// outside, a memory cgroup too small for the maps, concurrent writers. After each: the state is
// the old one or the new one, never a mix; the error is one line; nothing is left pinned or
// attached that the user did not ask for. (Killed imports: blacklist-kill.test.ts.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, LAB, XDPTOOL, freshLab, inNs, json, sh, xt, xtOk } from "./helpers.ts";

const PINS = "/sys/fs/bpf/xdptool";
const NS = [`${LAB}-fa`, `${LAB}-fb`];
const dir = mkdtempSync(join(tmpdir(), "xdptool-faults-"));
const FULL = join(dir, "full"); // a 64 KiB tmpfs: the full disk

/** One line on stderr, nothing on stdout that looks like success. */
function oneLineError(r: { code: number; stderr: string }, code: number, text: string): void {
  expect(r.code).toBe(code);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain(text);
}

/** A veth pair `name`/`name`p inside namespace ns, up. */
function pairIn(ns: string, name: string): void {
  expect(inNs(ns, ["ip", "link", "add", name, "type", "veth", "peer", "name", `${name}p`]).code).toBe(0);
  inNs(ns, ["ip", "link", "set", name, "up"]);
  inNs(ns, ["ip", "link", "set", `${name}p`, "up"]);
}

const status = (iface: string) => json<any>("status", iface);
const pinsOf = (ifname: string) => (existsSync(join(PINS, ifname)) ? readdirSync(join(PINS, ifname)) : []);

beforeAll(() => {
  freshLab();
  for (const ns of NS) {
    sh(["ip", "netns", "del", ns]);
    expect(sh(["ip", "netns", "add", ns]).code).toBe(0);
  }
  mkdirSync(FULL);
  expect(sh(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", FULL]).code).toBe(0);
});
afterAll(() => {
  sh(["umount", FULL]);
  rmdirSync(FULL);
  for (const ns of NS) sh(["ip", "netns", "del", ns]);
  for (const n of ["vsame", "vren", "vren2"]) sh(["rm", "-rf", join(PINS, n)]);
  xt("lab", "down");
});

test("an interface of the same name in another namespace: refused, the first keeps its program and pins", () => {
  for (const ns of NS) pairIn(ns, "vsame");
  const a = `${NS[0]}/vsame`, b = `${NS[1]}/vsame`;
  xtOk("blacklist", "attach", a);
  xtOk("blacklist", "add", "198.18.40.1", "-i", a);
  const id = status(a).id;
  for (const cmd of [["load", b, "hello"], ["blacklist", "attach", b], ["responder", "enable", b, "--qname", "example.test"]]) {
    oneLineError(xt(...cmd), 1, "holds the pins of another interface named vsame");
  }
  oneLineError(xt("unload", b), 1, "no XDP program to unload"); // and A's pins stay
  expect(status(a).id).toBe(id);
  expect(xtOk("blacklist", "export", "-i", a).trim()).toBe("198.18.40.1/32");
  expect(status(b).program).toBeNull();
  xtOk("unload", a);
  expect(pinsOf("vsame")).toEqual([]);
});

test("an interface renamed, then moved to another namespace: its rules follow it, unload leaves no pins", () => {
  pairIn(NS[0], "vren");
  xtOk("blacklist", "attach", `${NS[0]}/vren`);
  xtOk("blacklist", "add", "198.18.41.0/24", "-i", `${NS[0]}/vren`);
  inNs(NS[0], ["ip", "link", "set", "vren", "name", "vren2"]);
  // The first command that meets the new name moves the pins to it.
  const listed = xtOk("blacklist", "list", "-i", `${NS[0]}/vren2`);
  expect(listed).toContain("198.18.41.0/24");
  expect(pinsOf("vren")).toEqual([]);
  expect(status(`${NS[0]}/vren2`).owner).toBe("xdptool");
  expect(inNs(NS[0], ["ip", "link", "set", "vren2", "netns", NS[1]]).code).toBe(0);
  inNs(NS[1], ["ip", "link", "set", "vren2", "up"]);
  expect(status(`${NS[1]}/vren2`).features).toEqual(["blacklist"]);
  xtOk("blacklist", "add", "198.18.42.1", "-i", `${NS[1]}/vren2`);
  expect(xtOk("blacklist", "export", "-i", `${NS[1]}/vren2`).trim().split("\n")).toEqual(["198.18.41.0/24", "198.18.42.1/32"]);
  xtOk("unload", `${NS[1]}/vren2`);
  expect(pinsOf("vren2")).toEqual([]);
});

test("a full disk: export fails in one line; a capture keeps every whole packet and reads cleanly", async () => {
  xtOk("blacklist", "attach", DUT);
  const rules = join(dir, "rules.txt");
  writeFileSync(rules, Array.from({ length: 10_000 }, (_, i) => `198.19.${i >> 8}.${i & 255}`).join("\n") + "\n");
  xtOk("blacklist", "import", rules, "-i", DUT);
  const ex = sh(["sh", "-c", `${XDPTOOL} blacklist export -i ${DUT} > ${FULL}/rules.txt`]);
  oneLineError(ex, 1, "write standard output: ENOSPC");
  sh(["rm", "-f", `${FULL}/rules.txt`]);
  for (const ext of ["pcap", "pcapng"]) {
    const file = `${FULL}/c.${ext}`;
    const p = spawn([XDPTOOL, "sample", DUT, "-w", file], { stdout: "ignore", stderr: "pipe" });
    const reader = p.stderr.getReader();
    let err = "";
    while (!err.includes("sampling")) {
      const r = await reader.read();
      if (r.done) throw new Error(`sample ended before it started: ${err}`);
      err += new TextDecoder().decode(r.value);
    }
    // ~6 MB into 64 KiB: more than the writer's 2 MiB chunks, so a write must meet the full disk.
    xtOk("lab", "traffic", "--count", "6000", "--size", "1000");
    const timer = setTimeout(() => p.kill(9), 20_000);
    const code = await p.exited;
    clearTimeout(timer);
    for (let r = await reader.read(); !r.done; r = await reader.read()) err += new TextDecoder().decode(r.value);
    expect(code).toBe(1);
    expect(err).toContain("ENOSPC");
    const read = sh(["tcpdump", "-r", file, "-n"]);
    expect(read.code).toBe(0); // no "truncated dump file": the half record at the end was cut off
    expect(read.stdout.trim().split("\n").length).toBeGreaterThan(20);
    sh(["rm", "-f", file]);
  }
  xtOk("unload", DUT);
});

test("pins removed or replaced from outside: one line, nothing changed; unload clears them; attach starts afresh", () => {
  xtOk("blacklist", "attach", DUT);
  xtOk("blacklist", "add", "198.18.43.1", "-i", DUT);
  const pins = join(PINS, DUT);
  // Replaced by a map of another layout.
  sh(["rm", join(pins, "bl_recs")]);
  expect(sh(["bpftool", "map", "create", join(pins, "bl_recs"), "type", "array", "key", "4", "value", "8", "entries", "4", "name", "bl_recs"]).code).toBe(0);
  for (const cmd of [["blacklist", "add", "198.18.43.2", "-i", DUT], ["blacklist", "list", "-i", DUT], ["blacklist", "export", "-i", DUT]]) {
    oneLineError(xt(...cmd), 1, "bl_recs of another layout");
  }
  // Removed, with the program detached from outside: attaching again would mix old and new maps.
  sh(["rm", join(pins, "bl_recs")]);
  oneLineError(xt("blacklist", "add", "198.18.43.2", "-i", DUT), 1, "bl_recs missing");
  const link = JSON.parse(sh(["bpftool", "link", "show", "pinned", join(pins, "link"), "-j"]).stdout).id;
  expect(sh(["bpftool", "link", "detach", "id", String(link)]).code).toBe(0);
  oneLineError(xt("blacklist", "attach", DUT), 1, "do not belong together (bl_recs missing");
  expect(status(DUT).program).toBeNull(); // nothing attached by the refused command
  expect(xtOk("unload", DUT)).toContain("removed the");
  expect(pinsOf(DUT)).toEqual([]);
  xtOk("blacklist", "attach", DUT);
  expect(json<any>("blacklist", "status", "-i", DUT).rules).toBe(0);
  xtOk("unload", DUT);
});

test("pins whose resp_scratch has another layout (an older xdptool's): scratch holds no state, so the responder attaches again and keeps its counters", () => {
  xtOk("responder", "enable", DUT, "--qname", "example.test");
  const pins = join(PINS, DUT);
  const answered = () => json<any[]>("responder", "status", DUT)[0].counters.answered;
  // One answered query (dig gets TC and gives up: +ignore, no TCP retry): a counter to keep.
  inNs(`${LAB}-gen`, ["dig", "+ignore", "+tries=1", "+time=2", "@198.18.0.2", "www.example.test"]);
  const before = answered();
  expect(before).toBeGreaterThan(0);
  // The scratch of an older layout (its value was 904 bytes), and the program detached from outside.
  sh(["rm", join(pins, "resp_scratch")]);
  expect(sh(["bpftool", "map", "create", join(pins, "resp_scratch"), "type", "percpu_array", "key", "4", "value", "904", "entries", "1", "name", "resp_scratch"]).code).toBe(0);
  const link = JSON.parse(sh(["bpftool", "link", "show", "pinned", join(pins, "link"), "-j"]).stdout).id;
  expect(sh(["bpftool", "link", "detach", "id", String(link)]).code).toBe(0);
  xtOk("responder", "enable", DUT, "--qname", "example.test");
  expect(answered()).toBe(before); // resp_stats taken over: the rest of the responder's state is kept
  expect(JSON.parse(sh(["bpftool", "map", "show", "pinned", join(pins, "resp_scratch"), "-j"]).stdout).bytes_value).not.toBe(904);
  xtOk("unload", DUT);
});

test("a memory cgroup too small for the maps: one line, nothing pinned or attached", () => {
  const cg = "/sys/fs/cgroup/memory/xdptool-faults";
  if (!existsSync("/sys/fs/cgroup/memory")) return console.log("no cgroup v1 memory controller: skipped");
  sh(["rmdir", cg]);
  mkdirSync(cg);
  writeFileSync(join(cg, "memory.limit_in_bytes"), String(48 << 20));
  try {
    const r = sh(["sh", "-c", `echo $$ > ${cg}/cgroup.procs && exec ${XDPTOOL} blacklist attach ${DUT} --max-rules 4000000`]);
    oneLineError(r, 1, "ENOMEM");
    expect(status(DUT).program).toBeNull();
    expect(pinsOf(DUT)).toEqual([]);
  } finally {
    sh(["rmdir", cg]);
  }
});

/** Start `cmd`, kill -9 it after `ms`. */
async function killedAfter(cmd: string[], ms: number): Promise<void> {
  const p = spawn([XDPTOOL, ...cmd], { stdout: "ignore", stderr: "ignore" });
  await Bun.sleep(ms);
  p.kill(9);
  await p.exited;
}

test("kill -9 at any moment of attach, responder enable and sample start: all on or all off, and the next command works", async () => {
  const outcomes = new Set<string>();
  // Kill points spread over the whole of an attach, however long it takes on this machine.
  xt("unload", DUT);
  const t0 = performance.now();
  xtOk("blacklist", "attach", DUT);
  const full = performance.now() - t0;
  for (const ms of [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1, 1.3].map((f) => Math.round(f * full))) {
    xt("unload", DUT);
    await killedAfter(["blacklist", "attach", DUT], ms);
    let s = status(DUT);
    if (s.program) {
      expect(s.features).toEqual(["blacklist"]); // on, and whole: its rules can be read
      expect(json<any>("blacklist", "status", "-i", DUT).rules).toBe(0);
    } else {
      expect(pinsOf(DUT).filter((f) => !f.startsWith("staging-"))).toEqual([]); // no half-made set posing as one
    }
    outcomes.add(`attach:${s.program ? "on" : "off"}`);
    xtOk("blacklist", "attach", DUT); // whatever was left, attach works
    expect(pinsOf(DUT).filter((f) => f.startsWith("staging-"))).toEqual([]);
    xtOk("blacklist", "add", "198.18.44.1", "-i", DUT);

    await killedAfter(["responder", "enable", DUT, "--qname", "example.test"], ms);
    s = status(DUT);
    expect(s.features[0]).toBe("blacklist"); // the blacklist never noticed
    expect(xtOk("blacklist", "export", "-i", DUT).trim()).toBe("198.18.44.1/32");
    if (s.features.includes("responder")) expect(json<any>("responder", "status", DUT)[0].config.qnames).toBe(1); // configured before switched on
    outcomes.add(`responder:${s.features.includes("responder") ? "on" : "off"}`);
    xtOk("responder", "enable", DUT, "--qname", "example.test");

    await killedAfter(["sample", DUT, "-w", join(dir, "k.pcap")], ms);
    // A killed capture may leave its bit on; the next one (and status) must still work.
    const next = sh(["timeout", "3", XDPTOOL, "sample", DUT, "-c", "1", "-w", join(dir, "k2.pcap")]);
    expect([0, 124]).toContain(next.code);
    expect(status(DUT).features).toContain("responder");
  }
  xtOk("unload", DUT);
  console.log(`outcomes seen (an attach takes ${full.toFixed(0)} ms): ${[...outcomes].join(", ")}`);
});

test("8 writers at once (add, del, import, responder enable/disable, attach): every change lands whole", async () => {
  xt("unload", DUT);
  xtOk("blacklist", "attach", DUT);
  const script = (lines: string[]) => ["sh", "-ec", lines.map((l) => `${XDPTOOL} ${l} >/dev/null`).join("\n")];
  const files = [0, 1, 2].map((w) => {
    const f = join(dir, `merge${w}.txt`);
    writeFileSync(f, Array.from({ length: 50 }, (_, i) => `198.18.${60 + w}.${i + 1}`).join("\n") + "\n");
    return f;
  });
  const writers = [
    ...[0, 1, 2].map((w) => script([1, 2, 3, 4, 5].map((i) => `blacklist add 198.18.${50 + w}.${i} -i ${DUT}`).concat(`blacklist del 198.18.${50 + w}.1 -i ${DUT}`))),
    ...[0, 1, 2].map((w) => script([`blacklist import ${files[w]} -i ${DUT}`, `blacklist del 198.18.${60 + w}.50 -i ${DUT}`])),
    script(["responder enable", "responder disable", "responder enable", "responder disable", "responder enable"].map((c) => `${c} ${DUT}${c.endsWith("enable") ? " --qname example.test" : ""}`)),
    script([`blacklist attach ${DUT}`, `blacklist status -i ${DUT}`, `blacklist attach ${DUT}`, `blacklist list -i ${DUT}`]),
  ];
  const procs = writers.map((cmd) => spawn(cmd, { stdout: "ignore", stderr: "pipe", env: { ...process.env, XDPTOOL_LAB: LAB } }));
  const codes = await Promise.all(procs.map((p) => p.exited));
  const errs = await Promise.all(procs.map((p) => new Response(p.stderr).text()));
  expect(errs.filter((e) => e.trim())).toEqual([]);
  expect(codes).toEqual(writers.map(() => 0));
  const want = [
    ...[0, 1, 2].flatMap((w) => [2, 3, 4, 5].map((i) => `198.18.${50 + w}.${i}/32`)),
    ...[0, 1, 2].flatMap((w) => Array.from({ length: 49 }, (_, i) => `198.18.${60 + w}.${i + 1}/32`)),
  ];
  const got = xtOk("blacklist", "export", "-i", DUT).trim().split("\n");
  expect(got.sort()).toEqual(want.sort());
  expect(status(DUT).features.sort()).toEqual(["blacklist", "responder"]);
  xtOk("unload", DUT);
});
