// save / apply on the lab: a state built by hand is saved, wiped as a reboot would (program,
// features and pins gone), applied back from the file, and checked against what the kernel holds
// (rules from the maps, the responder's configuration from its maps) and against traffic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, GEN, ROOT, ethtoolStats, freshLab, inNs, json, xt, xtOk } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "xdptool-config-"));
const saved = join(dir, "host.toml");
const file = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};
/** The rules as the maps hold them; a TTL only as "has one" (its seconds tick on). */
const exported = () => xtOk("blacklist", "export", "-i", DUT).replace(/ --ttl \d+s/g, " --ttl");
const ttlLeft = () => Number(/--ttl (\d+)s/.exec(xtOk("blacklist", "export", "-i", DUT))?.[1]);
const progId = (): number | null => json("status", DUT).id;
const responder = () => {
  const { ports, names, from, addresses, over, slip, v4Prefix, v6Prefix } = json("responder", "status", DUT)[0].config;
  return { ports, names, from, addresses, over, slip, v4Prefix, v6Prefix };
};
const ruleCount = (rule: string): number => json("blacklist", "list", "-i", DUT).rules.find((r: any) => r.rule === rule)?.packets ?? -1;
const send = (src: string, count: number, ...extra: string[]) => xtOk("lab", "traffic", "--src", src, "--count", String(count), ...extra);

/** A reboot: the features switched off, the program off the interface, the pins removed. */
function reboot(): void {
  xt("blacklist", "detach", DUT);
  xt("responder", "disable", DUT);
  xt("unload", DUT);
  xt("unload", DUT, "--force");
  const pins = `/sys/fs/bpf/xdptool/${DUT}`;
  if (existsSync(pins)) for (const f of readdirSync(pins)) Bun.spawnSync(["rm", "-f", join(pins, f)]);
  Bun.spawnSync(["rmdir", pins]);
  expect(existsSync(pins)).toBe(false);
  expect(progId()).toBeNull();
}

let before = "", beforeResponder: ReturnType<typeof responder>;

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "4096");
  const bl = (...w: string[]) => xtOk("blacklist", ...w, "-i", DUT);
  bl("add", "198.18.7.0/24");
  bl("allow", "198.18.7.10");
  bl("add", "198.18.8.0/24", "port", "22/tcp");
  bl("add", "2001:db8:bad::/48");
  bl("add", "198.18.9.0/24", "--ttl", "1h");
  xtOk("responder", "enable", DUT, "--ports", "53,5353", "--qname", "example.test,attack.test", "--from", "198.18.0.0/16,2001:db8::/32", "--slip", "3");
  before = exported();
  beforeResponder = responder();
});
afterAll(() => xt("lab", "down"));

describe("save, reboot, apply", () => {
  test("save writes every feature of the interface, names and TTLs included, as TOML", () => {
    expect(xtOk("save", saved, "--interface", DUT)).toContain(`saved 1 interface (5 rules) to ${saved}`);
    const doc = Bun.TOML.parse(readFileSync(saved, "utf8")) as any;
    expect(doc.version).toBe(1);
    const [i] = doc.interface;
    expect([i.name, i.netns, i.mode, i.blacklist.max_rules]).toEqual([DUT, DUT, "native", 4096]);
    expect(i.blacklist.rules).toEqual(["198.18.7.0/24", "allow 198.18.7.10/32", "198.18.8.0/24 port 22/tcp", "2001:db8:bad::/48"]);
    // An absolute end, about an hour from now (not "3600 seconds", which a reboot would restart).
    const end = i.blacklist.expiring[0].expires.epochMilliseconds - Date.now();
    expect([i.blacklist.expiring[0].rule, end > 3500_000 && end <= 3601_000]).toEqual(["198.18.9.0/24", true]);
    expect(i.responder).toEqual({ ports: [53, 5353], qnames: ["attack.test", "example.test"], from: ["198.18.0.0/16", "2001:db8::/32"], addresses: [], over: 0, slip: 3, v4_prefix: 24, v6_prefix: 56, unverified_only: false });
    expect(xtOk("save", "--interface", DUT)).toContain(`name = "${DUT}"`); // stdout by default
    // The lab's other end runs xdptool's "pass" program: named, but only said, with nothing switched on.
    const gen = xtOk("save", "--interface", GEN);
    expect(gen).toContain(`# ${GEN} (netns ${GEN}) runs xdptool's "pass" program: not saved`);
    expect((Bun.TOML.parse(gen) as any).interface).toEqual([{ name: GEN, netns: GEN, mode: "native" }]);
  });

  test("apply after a reboot restores the same rules, responder and drops", () => {
    const ttl0 = ttlLeft();
    reboot();
    const r = xt("apply", saved);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain(`${DUT}/${DUT}: blacklist + 198.18.8.0/24 port 22/tcp`);
    expect(exported()).toBe(before);
    const left = ttlLeft();
    expect(left <= ttl0 && left >= ttl0 - 60).toBe(true); // the same end, not a fresh hour
    expect(responder()).toEqual(beforeResponder);
    expect(json("blacklist", "status", "-i", DUT).capacity).toBe(4096);
    // Traffic meets the restored rules: dropped by the kernel, counted on the rule that decided.
    const drops0 = ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
    send("198.18.7.5", 300);
    send("198.18.7.10", 200); // the allowed exception passes
    send("2001:db8:bad::5", 100, "--dst", "2001:db8::2");
    send("198.18.8.1", 50, "--proto", "tcp", "--dport", "22");
    send("198.18.8.1", 40, "--proto", "tcp", "--dport", "80"); // another port: passes
    expect(ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops - drops0).toBe(450);
    expect([ruleCount("198.18.7.0/24"), ruleCount("allow 198.18.7.10/32"), ruleCount("2001:db8:bad::/48"), ruleCount("198.18.8.0/24 port 22/tcp")]).toEqual([300, 200, 100, 50]);
    // The responder answers again (names and sources as before).
    const answered = json("responder", "status", DUT)[0].counters.answered;
    xtOk("lab", "traffic", "--dns", "www.example.test", "--count", "20");
    xtOk("lab", "traffic", "--dns", "www.other.test", "--count", "10");
    expect(json("responder", "status", DUT)[0].counters.answered - answered).toBe(20);
  });

  test("applying it again changes nothing: same program, counters kept, said so", () => {
    const id = progId();
    const r = xt("apply", saved);
    expect([r.code, r.stdout.trim().split("\n")]).toEqual([0, [`${DUT}/${DUT}: nothing to change`, `nothing to change: the host matches ${saved}`]]);
    expect(progId()).toBe(id);
    expect(ruleCount("198.18.7.0/24")).toBe(300);
    expect(json("apply", saved)).toEqual({ file: saved, dryRun: false, changed: false, interfaces: [{ interface: DUT, netns: DUT, changes: [], notes: [] }] });
  });

  test("--dry-run names a manual change and changes nothing; apply then undoes it, other counters kept", () => {
    const id = progId();
    xtOk("blacklist", "add", "198.18.50.0/24", "-i", DUT);
    xtOk("responder", "enable", DUT, "--ports", "53", "--qname", "example.test", "--from", "198.18.0.0/16,2001:db8::/32", "--slip", "3");
    const withManual = exported();
    const r = xt("apply", saved, "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      `${DUT}/${DUT}: blacklist - 198.18.50.0/24 (not in the file)`,
      `${DUT}/${DUT}: responder: ports [53] → [53,5353]`,
      `${DUT}/${DUT}: responder: qnames ["example.test"] → ["attack.test","example.test"]`,
      "dry run: nothing changed",
    ]);
    expect(exported()).toBe(withManual);
    expect(responder().ports).toEqual([53]);
    expect(xtOk("apply", saved)).toContain("blacklist - 198.18.50.0/24");
    expect([exported(), responder(), progId()]).toEqual([before, beforeResponder, id]);
    expect(ruleCount("198.18.7.0/24")).toBe(300); // carried into the swapped set
  });

  test("--unverified-only and its settings are saved and applied (a restore switched the spoof-proof mode off)", () => {
    const base = ["--ports", "53,5353", "--qname", "example.test,attack.test", "--from", "198.18.0.0/16,2001:db8::/32", "--slip", "3"];
    const mode = () => {
      const c = json("responder", "status", DUT)[0].config;
      return [c.unverifiedOnly, c.verifiedTtl, c.verifiedV4Prefix, c.verifiedV6Prefix];
    };
    xtOk("responder", "enable", DUT, ...base, "--unverified-only", "--verified-ttl", "30m", "--verified-v6-prefix", "56");
    const spoofProof = join(dir, "spoofproof.toml");
    xtOk("save", spoofProof, "--interface", DUT);
    const [i] = (Bun.TOML.parse(readFileSync(spoofProof, "utf8")) as any).interface;
    expect(i.responder).toMatchObject({ unverified_only: true, verified_ttl: "30m", verified_v4_prefix: 32, verified_v6_prefix: 56 });
    xtOk("responder", "enable", DUT, ...base); // off again, by hand
    expect(xtOk("apply", spoofProof, "--dry-run")).toContain(`${DUT}/${DUT}: responder: unverified_only false → true`);
    xtOk("apply", spoofProof);
    expect(mode()).toEqual([true, 1800, 32, 56]);
    expect(xtOk("apply", spoofProof)).toContain("nothing to change");
    xtOk("responder", "enable", DUT, ...base, "--unverified-only", "--verified-ttl", "2h"); // drift in a setting of the mode
    expect(xtOk("apply", spoofProof, "--dry-run")).toContain(`${DUT}/${DUT}: responder: verified_ttl 7200 → 1800`);
    xtOk("apply", saved); // as the other tests left it: the file saved without the mode
    expect(mode()[0]).toBe(false);
    expect(responder()).toEqual(beforeResponder);
  });
});

describe("modes and interfaces the file leaves out", () => {
  test("a file with another mode re-attaches in it: rules, responder and counters kept", () => {
    const id = progId();
    const skb = file("skb.toml", readFileSync(saved, "utf8").replace('mode = "native"', 'mode = "skb"'));
    expect(xtOk("apply", skb, "--dry-run")).toContain(`${DUT}/${DUT}: mode: native → skb`);
    expect(progId()).toBe(id);
    expect(xt("apply", skb).code).toBe(0);
    expect(json("status", DUT).mode).toBe("skb");
    expect([exported(), responder(), ruleCount("198.18.7.0/24")]).toEqual([before, beforeResponder, 300]);
    expect(xtOk("apply", skb)).toContain("nothing to change");
    xtOk("apply", saved);
    expect(json("status", DUT).mode).toBe("native");
  });

  test("an expiring rule whose time has passed is left out, and said so; one given another end is retimed", () => {
    const text = readFileSync(saved, "utf8");
    const past = file("past.toml", text.replace(/expires = \S+ \}/, "expires = 2020-01-01T00:00:00Z }"));
    expect(xtOk("apply", past, "--dry-run").split("\n").slice(0, 2)).toEqual([
      `${DUT}/${DUT}: blacklist: 198.18.9.0/24 expired at 2020-01-01T00:00:00Z: left out`,
      `${DUT}/${DUT}: blacklist - 198.18.9.0/24 (its time in the file has passed)`,
    ]);
    const later = new Date(Date.now() + 7200_000).toISOString().replace(/\.\d+Z$/, "Z");
    const moved = file("later.toml", text.replace(/expires = \S+ \}/, `expires = ${later} }`));
    expect(xtOk("apply", moved)).toContain(`${DUT}/${DUT}: blacklist ~ 198.18.9.0/24 (until ${later})`);
    expect(ttlLeft()).toBeGreaterThan(7100);
    xtOk("apply", saved);
    expect(ttlLeft()).toBeLessThan(3601);
    expect(exported()).toBe(before);
  });

  test("--prune names the features of interfaces the file does not name (dry run: nothing changed)", () => {
    const id = progId();
    // Dry run only: on a shared kernel, other interfaces' features are not ours to switch off.
    const out = xt("apply", file("empty.toml", "version = 1\n"), "--prune", "--dry-run").stdout;
    expect(out).toContain(`${DUT}/${DUT}: blacklist: switch off (its rules go when no feature is left on)\n${DUT}/${DUT}: responder: switch off\n`);
    expect(xtOk("apply", file("empty.toml", "version = 1\n"))).toContain("nothing to change"); // without --prune: left alone
    expect([exported(), progId()]).toEqual([before, id]);
  });

  test("a program xdptool did not load is left alone: that interface fails (exit 1), dry run or not", () => {
    reboot();
    expect(inNs(DUT, ["ip", "link", "set", "dev", DUT, "xdp", "obj", join(ROOT, "dist/bpf/pass.bpf.o"), "sec", "xdp"]).code).toBe(0);
    const foreign = json("status", DUT).id;
    const line = readFileSync(saved, "utf8").split("\n").indexOf("[[interface]]") + 1;
    for (const dry of [["--dry-run"], []]) {
      const r = xt("apply", saved, ...dry);
      expect([r.code, r.stderr.split("\n")[0]]).toEqual([1, `xdptool: ${saved}:${line}: ${DUT} runs XDP program "pass" (id ${foreign}) that xdptool did not load: left alone (xdptool unload ${DUT}/${DUT} --force takes it off)`]);
      expect(json("status", DUT)).toMatchObject({ id: foreign, owner: "foreign" });
    }
    inNs(DUT, ["ip", "link", "set", "dev", DUT, "xdp", "off"]);
    xtOk("apply", saved);
    expect([exported(), responder()]).toEqual([before, beforeResponder]);
  });
});

describe("files apply refuses, and interfaces it cannot find", () => {
  const unchanged = () => {
    expect(exported()).toBe(before);
    expect(responder()).toEqual(beforeResponder);
  };
  const head = `version = 1\n\n[[interface]]\nname = "${DUT}"\nnetns = "${DUT}"\n`;
  // Each file would change the DUT if it were applied in part: a rule removed, the responder off.
  for (const [what, body, line, reason] of [
    ["a syntax error", `${head}[interface.blacklist]\nrules = ["198.18.7.0/24"]\nmax_rules = = 3\n`, 8, "Expected a value but found '='"],
    ["an unknown key", `${head}[interface.blacklist]\nrules = [\n  "198.18.7.0/24",\n]\nmaxrules = 10\n`, 10, 'unknown key "maxrules" in [interface.blacklist] (known: max_rules, rules, file, expiring, feed)'],
    ["a bad rule", `${head}[interface.blacklist]\nrules = [\n  "198.18.7.0/24",\n  "198.18.300.0/24",\n]\n`, 9, '"198.18.300.0/24": invalid address "198.18.300.0" in "198.18.300.0/24"'],
    ["a bad rule in the second interface", `${head}[interface.blacklist]\nrules = []\n\n[[interface]]\nname = "lo"\n[interface.blacklist]\nexpiring = [{ rule = "198.18.1.0/24", expires = "tomorrow" }]\n`, 12, "expires must be a date and time with its offset, e.g. 2026-01-01T00:00:00Z"],
    ["a rule both permanent and expiring", `${head}[interface.blacklist]\nrules = ["198.18.7.0/24"]\nexpiring = [\n  { rule = "198.18.7.0/24", expires = 2030-01-01T00:00:00Z },\n]\n`, 9, '"198.18.7.0/24" is listed already (in rules, its file or expiring): keep one'],
    ["a bad responder port", `${head}\n[interface.responder]\nports = [53, 70000]\n`, 8, "a port must be a whole number from 1 to 65535"],
    ["unverified_only not true or false", `${head}\n[interface.responder]\nunverified_only = "yes"\n`, 8, "unverified_only must be true or false"],
    ["a verified_ttl of 0", `${head}\n[interface.responder]\nunverified_only = true\nverified_ttl = "0"\n`, 9, 'responder verified_ttl: invalid --verified-ttl "0" (a positive number with s, m, h or d, e.g. 10m)'],
    ["unverified_only without port 53", `${head}\n[interface.responder]\nports = [5353]\nunverified_only = true\n`, 7, "responder: --unverified-only verifies sources by their TCP connections to port 53, which --ports 5353 leaves out"],
    ["no version", `[[interface]]\nname = "${DUT}"\n`, 1, "no version: the file must say version = 1"],
  ] as const) {
    test(`${what}: FILE:LINE: reason, exit 2, nothing changed`, () => {
      const id = progId();
      const f = file("bad.toml", body);
      const r = xt("apply", f);
      expect([r.code, r.stderr.trim()]).toEqual([2, `xdptool: ${f}:${line}: ${reason}`]);
      unchanged();
      expect(progId()).toBe(id);
    });
  }

  test("a bad line in the referenced rule file is RULEFILE:LINE", () => {
    const rules = file("bad.rules", "198.18.7.0/24\n# fine\n198.18.7.0/40\n");
    const r = xt("apply", file("ref.toml", `${head}[interface.blacklist]\nfile = "bad.rules"\n`));
    expect([r.code, r.stderr.trim()]).toEqual([2, `xdptool: ${rules}:3: invalid prefix length "/40" in "198.18.7.0/40" (0 to 32 for IPv4)`]);
    unchanged();
  });

  test("a feed that is not http(s), or a refresh that is not a duration: FILE:LINE, exit 2, nothing changed", () => {
    // (Feeds that apply: test/config-feeds.test.ts.)
    for (const [url, refresh, msg] of [["ftp://198.18.0.1/drop.txt", "1d", "is not an http:// or https:// URL"], ["http://198.18.0.1/drop.txt", "often", "must be a duration"]]) {
      const f = file("feed.toml", `${head}[interface.blacklist]\nrules = []\n[[interface.blacklist.feed]]\nurl = "${url}"\nrefresh = "${refresh}"\n`);
      const r = xt("apply", f);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${f}:`);
      expect(r.stderr).toContain(msg);
      unchanged();
    }
  });

  test("an interface that does not exist: one line, the others applied, exit 1", () => {
    const text = readFileSync(saved, "utf8").replace('"198.18.7.0/24",', '"198.18.7.0/24",\n  "198.18.60.0/24",');
    const f = file("missing.toml", `${text}\n[[interface]]\nname = "${DUT.slice(0, 2)}-nope0"\n[interface.blacklist]\n`);
    const line = text.split("\n").length + 1;
    const r = xt("apply", f);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `xdptool: ${f}:${line}: no interface "${DUT.slice(0, 2)}-nope0" in this network namespace; skipped`,
      "xdptool: 1 of 2 interfaces not applied (see above)",
    ]);
    expect(exported()).toBe(before.replace("198.18.7.0/24\n", "198.18.7.0/24\n198.18.60.0/24\n"));
    xtOk("apply", saved);
    expect(exported()).toBe(before);
  });
});

test("a big rule set is saved to a rule file beside the config, and applied back from it", () => {
  const lines = Array.from({ length: 1500 }, (_, i) => `198.19.${i >> 8}.${i & 255}/32`);
  xtOk("blacklist", "import", file("big.rules", lines.join("\n") + "\n"), "-i", DUT);
  const cfg = join(dir, "big.toml");
  expect(xtOk("save", cfg, "--interface", DUT)).toContain("1 rule files beside it");
  const ruleFile = join(dir, `big.${DUT}.rules`);
  expect(readFileSync(cfg, "utf8")).toContain(`file = "big.${DUT}.rules"`);
  expect(readFileSync(ruleFile, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).length).toBe(1504); // and the 4 permanent ones
  const sorted = () => exported().split("\n").sort(); // a rebuilt set numbers its rules in another order
  const all = sorted();
  reboot();
  expect(xt("apply", cfg).code).toBe(0);
  expect(sorted()).toEqual(all);
  expect(xtOk("apply", cfg)).toContain("nothing to change");
  xtOk("apply", saved); // back to the small set for whoever comes next
});

test("service install writes units that systemd-analyze verify accepts; uninstall removes them", () => {
  const units = join(dir, "units");
  // A root-namespace interface besides the lab's: the service waits for its device.
  const cfg = file("svc.toml", `${readFileSync(saved, "utf8")}\n[[interface]]\nname = "lo"\n[[interface]]\nname = "eth-x1"\n[interface.blacklist]\n[[interface.blacklist.feed]]\nurl = "https://198.18.0.1/drop.txt"\nrefresh = "6h"\n`);
  const r = xt("service", "install", "--config", cfg, "--unit-dir", units);
  expect(r.code).toBe(0);
  expect(readdirSync(units).sort()).toEqual(["xdptool-refresh.service", "xdptool-refresh.timer", "xdptool.service"]);
  const svc = readFileSync(join(units, "xdptool.service"), "utf8");
  expect(svc).toContain(`ExecStart=${join(import.meta.dir, "../dist/xdptool")} apply ${cfg}\n`);
  expect(svc).toContain("Wants=network-pre.target\nBefore=network-pre.target");
  const device = (n: string) => Bun.spawnSync(["systemd-escape", "--path", "--suffix=device", `/sys/subsystem/net/devices/${n}`]).stdout.toString().trim();
  expect(svc).toContain(`After=${device("lo")} ${device("eth-x1")}\n`);
  expect(readFileSync(join(units, "xdptool-refresh.timer"), "utf8")).toContain("OnUnitActiveSec=21600s\n"); // the feed's refresh
  const v = Bun.spawnSync(["systemd-analyze", "verify", "--man=no", ...readdirSync(units).map((u) => join(units, u))]);
  expect([v.exitCode, v.stderr.toString()]).toEqual([0, ""]);
  expect(xtOk("service", "uninstall", "--unit-dir", units)).toContain("removed");
  expect(readdirSync(units)).toEqual([]);
  expect(xt("service", "uninstall", "--unit-dir", units).code).toBe(1);
  // --metrics: a fourth unit serving stats --prometheus; verified, removed with the others.
  expect(xt("service", "install", "--config", cfg, "--unit-dir", units, "--metrics", "bad").code).toBe(2);
  expect(readdirSync(units)).toEqual([]);
  xtOk("service", "install", "--config", cfg, "--unit-dir", units, "--metrics", "127.0.0.1:9435");
  const m = readFileSync(join(units, "xdptool-metrics.service"), "utf8");
  expect(m).toContain(`ExecStart=${join(import.meta.dir, "../dist/xdptool")} stats --prometheus 127.0.0.1:9435\n`);
  const vm = Bun.spawnSync(["systemd-analyze", "verify", "--man=no", ...readdirSync(units).map((u) => join(units, u))]);
  expect([vm.exitCode, vm.stderr.toString()]).toEqual([0, ""]);
  xtOk("service", "uninstall", "--unit-dir", units);
  expect(readdirSync(units)).toEqual([]);
});
