// An interface that goes away under a running command: sample, stats --watch and the Prometheus
// endpoint end within a second or so, say which interface went, exit 1, and a capture file stays
// whole and readable. (The interfaces are a veth pair of their own inside the lab's DUT namespace:
// the lab itself stays up.)
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, XDPTOOL, freshLab, inNs, json, sh, xt, xtOk } from "./helpers.ts";

const IF = "vgone0", PEER = "vgone1";
const makePair = () => {
  inNs(DUT, ["ip", "link", "del", IF]);
  expect(inNs(DUT, ["ip", "link", "add", IF, "type", "veth", "peer", "name", PEER]).code).toBe(0);
  expect(inNs(DUT, ["ip", "link", "set", IF, "up"]).code).toBe(0);
  expect(inNs(DUT, ["ip", "link", "set", PEER, "up"]).code).toBe(0);
};

beforeAll(() => freshLab());
afterAll(() => {
  inNs(DUT, ["ip", "link", "del", IF]);
  xt("lab", "down");
});

/** Start a command; resolve once `ready` shows on stderr. */
async function started(cmd: string[], ready: string) {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const reader = p.stderr.getReader();
  let err = "";
  while (!err.includes(ready)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} ended before "${ready}": ${err}`);
    err += new TextDecoder().decode(value);
  }
  return {
    p,
    /** Delete the interface; how long the command took to end after it, its exit code and stderr. */
    async vanish() {
      const t = performance.now();
      expect(inNs(DUT, ["ip", "link", "del", IF]).code).toBe(0);
      const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
      const code = await p.exited;
      clearTimeout(timer);
      const ms = performance.now() - t;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        err += new TextDecoder().decode(value);
      }
      return { code, ms, stderr: err };
    },
  };
}

test("sample: the interface deleted mid-capture ends it, exit 1, naming it; the pcap is whole", async () => {
  makePair();
  const file = join(mkdtempSync(join(tmpdir(), "xt-vanish-")), "c.pcap");
  const s = await started([XDPTOOL, "sample", IF, "-w", file], "sampling");
  const r = await s.vanish();
  expect(r.code).toBe(1);
  expect(r.ms).toBeLessThan(5000); // it ended by itself (the 10 s kill would give 137)
  expect(r.stderr).toContain(`${IF} went away`);
  const read = sh(["tcpdump", "-r", file, "-n"]);
  expect(read.code).toBe(0);
  expect(read.stderr).toContain("reading from file");
});

test("stats --watch on an interface that is deleted ends, exit 1, naming it", async () => {
  makePair();
  xtOk("load", IF, "hello");
  const s = await started([XDPTOOL, "stats", IF, "--watch", "--json", "--interval", "0.2"], "");
  await Bun.sleep(500); // a few intervals printed
  const r = await s.vanish();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${IF} went away`);
});

test("the Prometheus endpoint of an interface that is deleted stops, exit 1, naming it", async () => {
  makePair();
  xtOk("load", IF, "hello");
  const s = await started([XDPTOOL, "stats", IF, "--prometheus", "127.0.0.1:0"], "serving Prometheus metrics");
  const r = await s.vanish();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${IF} went away`);
});

test("the pins of an interface deleted under our program stay (a new one of that name adopts them) until `unload NAME` removes them", () => {
  makePair();
  xtOk("blacklist", "attach", IF);
  xtOk("blacklist", "add", "198.18.9.0/24", "-i", IF);
  expect(inNs(DUT, ["ip", "link", "del", IF]).code).toBe(0);
  const pins = `/sys/fs/bpf/xdptool/${IF}`;
  expect(sh(["ls", pins]).stdout).toContain("bl_recs"); // kept: the rules outlive the interface
  const st = xt("status");
  expect(st.code).toBe(0);
  expect(st.stderr).toContain(`xdptool: pins of interfaces that are gone: ${IF} (`);
  expect(st.stdout).not.toContain(IF);
  const r = xt("unload", IF);
  expect([r.code, r.stdout.trim()]).toEqual([0, expect.stringMatching(new RegExp(`^${IF}: the interface is gone; removed the \\d+ pins it left behind`))]);
  expect(sh(["ls", pins]).code).not.toBe(0);
  // Nothing left: the name is an unknown interface again.
  expect(xt("unload", IF).code).toBe(2);
  // A live interface's pins are never taken for an orphan's.
  expect(xt("unload", "nosuch0").code).toBe(2);
});

test("status names the pins no program uses: detached from outside, the rules wait for the next attach", () => {
  makePair();
  xtOk("blacklist", "attach", IF);
  xtOk("blacklist", "add", "198.18.9.0/24", "-i", IF);
  const link = JSON.parse(sh(["bpftool", "-j", "link", "show", "pinned", `/sys/fs/bpf/xdptool/${IF}/link`]).stdout).id;
  expect(sh(["bpftool", "link", "detach", "id", String(link)]).code).toBe(0);
  expect(xt("status").stderr).toContain(`xdptool: pins with no program attached: ${IF} (`);
  xtOk("blacklist", "attach", IF);
  expect(xt("status").stderr).not.toContain(IF);
  expect(json<any>("blacklist", "list", "-i", IF, "--json").rules.map((r: any) => r.rule)).toEqual(["198.18.9.0/24"]);
  xtOk("unload", IF);
  inNs(DUT, ["ip", "link", "del", IF]);
});
