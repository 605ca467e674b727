// `blacklist test` against the live lab: for each question, the packet it describes (its --json
// `packet`) is sent for real, and the kernel's drop counter and the rule counters must show
// the verdict and the deciding rule `test` named. `test` itself must change no counter.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, GEN, ethtoolStats, freshLab, json, xt, xtOk } from "./helpers.ts";

const bl = (...args: string[]) => xt("blacklist", ...args, "-i", DUT);
const blOk = (...args: string[]) => xtOk("blacklist", ...args, "-i", DUT);
const blJson = (...args: string[]) => json("blacklist", ...args, "-i", DUT);
const ruleList = () => blJson("list").rules as any[];
const ruleId = (text: string) => ruleList().find((r) => r.rule === text)?.id as number;
const drops = () => ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
const hits = () => Object.fromEntries(ruleList().map((r) => [r.id, r.packets])) as Record<number, number>;
/** A listed rule without its last-hit time (each reading converts the clock afresh: ±1 ms). */
const noTime = ({ lastHit, ...r }: any) => ({ ...r, hit: lastHit !== null });

const RULES = [
  "198.19.0.0/16", // the outer prefix of a nest
  "198.19.7.0/24", // inside it
  "allow 198.19.7.10", // an exception to both
  "198.19.8.0/24 port 22/tcp", // only SSH from this /24; the rest of it falls to the /16
  "mac 02:00:00:00:00:99",
  "2001:db8:bad::/48",
  "2001:db8:dead::/48 --dst",
  "port 9/udp --src", // a port-only rule (source port 9)
];

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "10000");
  const dir = mkdtempSync(join(tmpdir(), "xt-bltest-"));
  writeFileSync(join(dir, "rules.txt"), RULES.join("\n") + "\n");
  blOk("import", join(dir, "rules.txt"), "--replace");
});
afterAll(() => xt("lab", "down"));

/** Send the packet a `test --json` answer describes, `n` times, from the generator end. */
function replay(p: any, n: number): void {
  const args = ["lab", "traffic", "--count", String(n), "--src", p.src, "--dst", p.dst, "--src-mac", p.srcMac, "--dst-mac", p.dstMac];
  if (p.proto === null) args.push("--proto", "none");
  else if (p.proto === "icmp" || p.proto === "icmpv6") args.push("--proto", "icmp");
  else args.push("--proto", p.proto, "--sport", String(p.sport), "--dport", String(p.dport));
  xtOk(...args);
}

/** `test` answers for the words; the answer's packet, sent 1000 times, must agree with it. */
function agrees(words: string[], verdict: "drop" | "pass", rule: string | null, packet: (p: any) => any = (p) => p): any {
  const t = blJson("test", ...words);
  expect({ words, verdict: t.verdict, rule: t.rule?.rule ?? null }).toEqual({ words, verdict, rule });
  if (t.rule) expect(noTime(t.rule)).toEqual(noTime(ruleList().find((r) => r.id === t.rule.id))); // as `list` shows it
  const h0 = hits(), d0 = drops();
  replay(packet(t.packet), 1000);
  const h1 = hits(), d1 = drops();
  expect({ words, drops: d1 - d0 }).toEqual({ words, drops: verdict === "drop" ? 1000 : 0 });
  const moved = Object.fromEntries(Object.keys(h1).filter((id) => h1[+id] !== h0[+id]).map((id) => [id, h1[+id] - (h0[+id] ?? 0)]));
  expect({ words, moved }).toEqual({ words, moved: t.rule ? { [t.rule.id]: 1000 } : {} });
  return t;
}

describe("agrees with live traffic", () => {
  test("prefix nest, allow exception, port rule, port-only rule, IPv6, --dst", () => {
    agrees(["198.19.7.5"], "drop", "198.19.7.0/24");
    agrees(["198.19.9.1"], "drop", "198.19.0.0/16");
    agrees(["198.19.7.10"], "pass", "allow 198.19.7.10/32");
    agrees(["198.19.8.1", "port", "22/tcp"], "drop", "198.19.8.0/24 port 22/tcp");
    agrees(["198.19.8.1", "port", "23/tcp"], "drop", "198.19.0.0/16"); // climbs past the /24's port rule
    agrees(["198.18.5.5"], "pass", null);
    agrees(["198.18.5.5", "port", "53/udp"], "pass", null);
    agrees(["198.18.5.5", "sport", "9/udp"], "drop", "port 9/udp --src");
    agrees(["2001:db8:bad::7"], "drop", "2001:db8:bad::/48");
    agrees(["2001:db8:bad::7", "--dst"], "pass", null); // the rule is about sources
    agrees(["2001:db8:dead::7", "--dst"], "drop", "2001:db8:dead::/48 --dst");
    agrees(["2001:db8:1::7", "proto", "icmpv6"], "pass", null);
  });

  test("no port given: a packet of no protocol, so port rules are not asked", () => {
    const t = agrees(["198.18.5.5"], "pass", null);
    expect(t.packet).toMatchObject({ src: "198.18.5.5", dst: "198.18.0.2", proto: null, sport: null, dport: null });
    // The other port is one no rule names: not the source port 9 of the port-only rule.
    const u = blJson("test", "198.18.5.5", "port", "53/udp");
    expect(u.packet).toMatchObject({ proto: "udp", dport: 53, sport: 49152 });
  });

  test("MAC rule", () => {
    const t = blJson("test", "mac", "02:00:00:00:00:99");
    expect([t.verdict, t.rule.rule, t.packet.src]).toEqual(["drop", "mac 02:00:00:00:00:99", null]); // a non-IP frame
    // The MAC is judged before any address: the same MAC with a lab address decides the same way.
    const withMac = blJson("test", "mac", "02:00:00:00:00:99", "port", "53/udp");
    expect([withMac.verdict, withMac.rule.id]).toEqual(["drop", t.rule.id]);
    const h0 = hits()[t.rule.id], d0 = drops();
    xtOk("lab", "traffic", "--count", "1000", "--src", "198.18.5.5", "--src-mac", "02:00:00:00:00:99", "--proto", "none");
    expect([hits()[t.rule.id] - h0, drops() - d0]).toEqual([1000, 1000]);
    expect(blJson("test", "mac", "02:00:00:00:00:98").verdict).toBe("pass");
  });

  test("a TTL rule decides until it expires, then the rule under it does", () => {
    blOk("allow", "198.19.6.0/24", "--ttl", "3s");
    agrees(["198.19.6.1"], "pass", "allow 198.19.6.0/24");
    Bun.sleepSync(3500);
    agrees(["198.19.6.1"], "drop", "198.19.0.0/16");
  });

  test("test changes no counter", () => {
    xtOk("lab", "traffic", "--count", "100", "--src", "198.19.7.5"); // some counts to keep
    const h0 = hits(), d0 = drops(), l0 = ruleList();
    const s0 = json("stats", DUT).interfaces[DUT];
    for (const w of [["198.19.7.5"], ["198.19.7.10"], ["198.19.8.1", "port", "22/tcp"], ["mac", "02:00:00:00:00:99"], ["2001:db8:dead::7", "--dst"]]) blOk("test", ...w);
    expect(hits()).toEqual(h0);
    expect(ruleList().map(noTime)).toEqual(l0.map(noTime));
    expect(drops()).toBe(d0);
    const s1 = json("stats", DUT).interfaces[DUT];
    expect(s1.drop.packets).toBe(s0.drop.packets);
    expect(s1.aborted.packets).toBe(s0.aborted.packets);
  });

  test("text output: the verdict first, then the rule or \"no rule\"", () => {
    const id = ruleId("198.19.7.0/24");
    expect(blOk("test", "198.19.7.5").trim()).toBe(`drop by rule ${id}: 198.19.7.0/24`);
    expect(blOk("test", "198.18.5.5").trim()).toBe("pass: no rule");
  });
});

describe("bad input", () => {
  test("one line, exit 2; no blacklist there: exit 1", () => {
    const cases: [string[], RegExp][] = [
      [["test", "300.1.1.1"], /invalid address/],
      [["test", "198.19.8.1", "port", "22"], /port 22 names no protocol.*22\/tcp/],
      [["test", "198.19.0.0/16"], /one address, not the prefix/],
      [["test"], /name the packet's address/],
      [["test", "port", "22/tcp"], /name the packet's address/],
      [["test", "allow", "198.19.7.5"], /test takes a packet/],
      [["test", "198.19.7.5", "--any"], /unknown option --any/],
      [["test", "198.19.7.5", "--src", "--dst"], /choose one/],
      [["test", "mac", "02:00"], /invalid MAC/],
      [["test", "198.19.7.5", "proto", "foo"], /unknown protocol/],
    ];
    for (const [args, re] of cases) {
      const r = bl(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    const unknown = xt("blacklist", "test", "198.19.7.5", "-i", "nosuch0");
    expect([unknown.code, unknown.stderr.trim().split("\n").length]).toEqual([2, 1]);
    expect(unknown.stderr).toContain('no interface "nosuch0"');
    const none = xt("blacklist", "test", "198.19.7.5", "-i", GEN);
    expect([none.code, none.stderr.trim()]).toEqual([1, `xdptool: no blacklist runs on ${GEN}; attach one: xdptool blacklist attach ${GEN}`]);
  });
});
