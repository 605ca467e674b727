// DNS TC responder: real nsd behind it, real dig in front, the kernel's own counters, tshark's
// checksum verdicts. (Frame-by-frame checks through BPF_PROG_TEST_RUN, the fuzz corpus among
// them: responder-testrun.test.ts.)
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, GEN, ROOT, compileAndRun, ethtoolStats, freshLab, inNs, json, sh, xt, xtOk } from "./helpers.ts";
import { dig, flags, labWithNsd } from "./nsd.ts";
import { RESP_LAYOUT, RESP_STATS } from "../src/responder/maps.ts";
import { NAME_BITS, NAME_PROBES, NAME_SLOTS } from "../src/responder/names.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { deliverFrames } from "../src/lab/traffic.ts";

const dir = mkdtempSync(join(tmpdir(), "xdptool-resp-"));
const DUT_MAC = "02:78:74:00:00:02"; // the lab's DUT end (src/lab/setup.ts)

labWithNsd();

const counters = (): Record<string, number> => json<any[]>("responder", "status").find((r) => r.interface === DUT)?.counters ?? {};
const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(RESP_STATS.map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

test("shared structs and counter names match bpf/include/responder_data.h", () => {
  const lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <linux/types.h>", `#include "${ROOT}/bpf/include/responder_data.h"`, "int main(void) {"];
  for (const [s, l] of Object.entries(RESP_LAYOUT)) {
    lines.push(`printf("${s}.size %zu\\n", sizeof(struct ${s}));`);
    for (const f of Object.keys(l)) if (f !== "size") lines.push(`printf("${s}.${f} %zu\\n", offsetof(struct ${s}, ${f}));`);
  }
  lines.push(`printf("stats %d\\n", XT_RESP_STAT_MAX);`, `printf("no_match %d\\n", XT_RESP_NO_MATCH);`, `printf("malformed %d\\n", XT_RESP_MALFORMED);`);
  lines.push(`printf("name_bits %d\\nname_slots %d\\nname_probes %d\\n", XT_RESP_NAME_BITS, XT_RESP_NAME_SLOTS, XT_RESP_NAME_PROBES);`, "return 0; }");
  const c = Object.fromEntries(compileAndRun(lines.join("\n")).trim().split("\n").map((l) => l.split(" ")).map(([k, v]) => [k, Number(v)]));
  const ts: Record<string, number> = { stats: RESP_STATS.length, no_match: RESP_STATS.indexOf("no_match"), malformed: RESP_STATS.indexOf("malformed"),
    name_bits: NAME_BITS, name_slots: NAME_SLOTS, name_probes: NAME_PROBES };
  for (const [s, l] of Object.entries(RESP_LAYOUT)) for (const [f, v] of Object.entries(l)) ts[`${s}.${f}`] = v;
  expect(ts).toEqual(c);
});

describe("selection with real clients", () => {
  test("matching name, IPv4 and IPv6: UDP gets TC=1, dig retries over TCP and gets nsd's answer", () => {
    const first = json("responder", "enable", DUT, "--qname", "example.test");
    expect(first.action).toBe("attached");
    const before = counters();
    for (const [server, type, answer] of [["198.18.0.2", "A", "198.18.0.80"], ["2001:db8::2", "AAAA", "2001:db8::80"]]) {
      const udp = dig(["+ignore", "www.Example.TEST", type], server);
      expect(udp.code).toBe(0);
      expect(flags(udp.stdout)).toEqual(["qr", "tc", "rd", "ra"]); // no aa: the reply is ours, not nsd's
      expect(udp.stdout).toContain("ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1"); // our OPT (responder-edns.test.ts)
      expect(udp.stdout).toMatch(/QUESTION SECTION:\n;www\.Example\.TEST\.\s+IN\s+/); // question echoed as sent
      const full = dig(["www.example.test", type], server);
      expect(full.stdout).toContain("Truncated, retrying in TCP mode");
      expect(full.stdout).toMatch(new RegExp(`www\\.example\\.test\\.\\s+300\\s+IN\\s+${type}\\s+${answer}`));
      expect(full.stdout).toContain("(TCP)");
    }
    // dig's default queries carry an EDNS OPT record (ARCOUNT=1): answered with an OPT of ours.
    expect(diff(before, counters()).answered).toBe(4);
  });

  test("non-matching names get nsd's own UDP answer (label-aware)", () => {
    xtOk("responder", "enable", DUT, "--qname", "example.test");
    const before = counters();
    const other = dig(["+ignore", "www.other.test"]);
    expect(flags(other.stdout)).toContain("aa");
    expect(flags(other.stdout)).not.toContain("tc");
    expect(other.stdout).toContain("198.18.0.81");
    const bad = dig(["+ignore", "badexample.test"], "2001:db8::2"); // nsd refuses it, but it is nsd's reply
    expect(flags(bad.stdout)).not.toContain("tc");
    expect(bad.stdout).toMatch(/status: REFUSED/);
    expect(diff(before, counters())).toMatchObject({ answered: 0, no_match: 2 });
  });

  test("a TSIG-signed query goes to the server: a reply with its signature cut off would be rejected", () => {
    xtOk("responder", "enable", DUT, "--qname", "example.test");
    const before = counters();
    // nsd knows no such key and answers NOTAUTH itself; what matters is that the answer is nsd's.
    const signed = dig(["+ignore", "-y", "hmac-sha256:xdptool-test:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0", "www.example.test"]);
    expect(flags(signed.stdout)).not.toContain("tc");
    expect(diff(before, counters())).toMatchObject({ answered: 0, not_query: 1 });
  });

  test("--from selects sources by prefix, changed live without re-attaching", () => {
    const a = json("responder", "enable", DUT, "--from", "198.18.64.0/18,2001:db8:1::/48");
    expect(flags(dig(["+ignore", "www.other.test"]).stdout)).not.toContain("tc");
    expect(flags(dig(["+ignore", "www.other.test"], "2001:db8::2").stdout)).not.toContain("tc");
    const b = json("responder", "enable", DUT, "--from", "198.18.0.0/24,2001:db8::/64");
    expect(b).toMatchObject({ action: "reconfigured", progId: a.progId });
    expect(flags(dig(["+ignore", "www.other.test"]).stdout)).toContain("tc");
    expect(flags(dig(["+ignore", "www.other.test"], "2001:db8::2").stdout)).toContain("tc");
    expect(json<any[]>("responder", "status").find((r) => r.interface === DUT).config.from).toEqual(["198.18.0.0/24", "2001:db8::/64"]);
  });

  test("--over: a source under the threshold gets the normal answer", () => {
    xtOk("responder", "enable", DUT, "--over", "100");
    const before = counters();
    const r = dig(["+ignore", "www.example.test"]);
    expect(flags(r.stdout)).toContain("aa");
    expect(flags(r.stdout)).not.toContain("tc");
    expect(diff(before, counters())).toMatchObject({ answered: 0, under_rate: 1 });
  });
});

describe("flood from the generator", () => {
  const frame = (src: string) => ({ v6: src.includes(":"), size: src.includes(":") ? 96 : 76 });

  test("every query answered: the DUT's kernel counts XDP_TX, the generator's receives them; tshark validates", async () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT); // every name, port 53
    const g0 = ethtoolStats(GEN, GEN), d0 = ethtoolStats(DUT, DUT), c0 = counters();
    const N = 20000;
    for (const src of ["198.18.0.1", "2001:db8::1"]) {
      xtOk("lab", "traffic", "--dns", "www.example.test", "--src", src, "--count", String(N), "--size", String(frame(src).size));
    }
    const g1 = ethtoolStats(GEN, GEN), d1 = ethtoolStats(DUT, DUT), c1 = counters();
    expect(diff(c0, c1).answered).toBe(2 * N);
    expect(d1.rx_queue_0_xdp_tx - (d0.rx_queue_0_xdp_tx ?? 0)).toBe(2 * N);
    expect(d1.rx_queue_0_xdp_tx_errors ?? 0).toBe(d0.rx_queue_0_xdp_tx_errors ?? 0);
    const rx = g1.rx_queue_0_xdp_packets - g0.rx_queue_0_xdp_packets;
    expect(rx).toBeGreaterThanOrEqual(2 * N);
    expect(rx).toBeLessThan(2 * N + 50); // a few packets of the DUT's own stack at most
  });

  test("every reply of both families, captured on the generator, passes tshark's checksum and DNS checks", async () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT);
    const capture = join(dir, "replies.pcap"), M = 500;
    // A large capture buffer (no reply lost to a burst); the capture has begun once tcpdump says
    // it is listening, and it ends by itself once it has all 2 × M replies.
    const dump = spawn(["ip", "netns", "exec", GEN, "tcpdump", "-i", GEN, "-B", "32768", "-U", "-w", capture, "-c", String(2 * M), "udp src port 53"], { stdout: "ignore", stderr: "pipe" });
    const err = dump.stderr.getReader();
    for (let text = ""; !text.includes("listening on"); ) {
      const { value, done } = await err.read();
      if (done) throw new Error(`tcpdump ended: ${text}`);
      text += new TextDecoder().decode(value);
    }
    for (const src of ["198.18.0.1", "2001:db8::1"]) {
      xtOk("lab", "traffic", "--dns", "www.example.test", "--src", src, "--count", String(M), "--size", String(frame(src).size));
    }
    await Promise.race([dump.exited, Bun.sleep(10_000)]);
    dump.kill();
    const t = sh(["tshark", "-r", capture, "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields",
      "-e", "ipv6.version", "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "dns.flags.response", "-e", "dns.flags.truncated", "-e", "dns.qry.name", "-e", "_ws.malformed"]);
    const rows = t.stdout.split("\n").filter((l) => l.trim()).map((l) => l.split("\t"));
    expect(rows.filter(([v6]) => v6 === "").length).toBe(M); // every IPv4 reply
    expect(rows.filter(([v6]) => v6 === "6").length).toBe(M); // and every IPv6 one
    for (const [v6, ipOk, udpOk, qr, tc, name, malformed] of rows) {
      if (!v6) expect(ipOk).toBe("1"); // 1 = Good
      expect([udpOk, qr, tc, name, malformed]).toEqual(["1", "1", "1", "www.example.test", ""]);
    }
  });

  test("over-rate source: every --slip'th query gets TC=1, the rest are dropped", () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT, "--over", "1", "--slip", "3");
    const g0 = ethtoolStats(GEN, GEN), d0 = ethtoolStats(DUT, DUT), c0 = counters();
    const N = 3000;
    xtOk("lab", "traffic", "--dns", "www.example.test", "--count", String(N), "--size", "76");
    const d = diff(c0, counters());
    const g1 = ethtoolStats(GEN, GEN), d1 = ethtoolStats(DUT, DUT);
    expect(d.answered + d.slip_dropped + d.under_rate).toBe(N);
    expect(d.under_rate).toBeGreaterThanOrEqual(1); // the first query fits the bucket
    expect(d.under_rate).toBeLessThan(N / 10);
    // Every 3rd over-limit query is answered. The slip counter lives in the source's bucket, shared
    // by both CPUs without a lock (cheap, and RRL needs no exactness), so a few increments may race.
    const third = (d.answered + d.slip_dropped) / 3;
    expect(Math.abs(d.answered - third)).toBeLessThanOrEqual(Math.max(3, third * 0.01));
    // Every answer is an XDP_TX verdict the DUT's kernel acted on: sent to the generator, or refused
    // by the generator's 256-slot veth ring when its NAPI lagged (a lab limit, counted as tx_errors).
    const sent = d1.rx_queue_0_xdp_tx - (d0.rx_queue_0_xdp_tx ?? 0);
    const refused = (d1.rx_queue_0_xdp_tx_errors ?? 0) - (d0.rx_queue_0_xdp_tx_errors ?? 0);
    expect(sent + refused).toBe(d.answered);
    expect(refused).toBeLessThan(d.answered / 10);
    const rx = g1.rx_queue_0_xdp_packets - g0.rx_queue_0_xdp_packets;
    expect(rx).toBeGreaterThanOrEqual(sent);
    expect(rx).toBeLessThan(sent + 50);
  });
});

describe("only queries addressed to this host", () => {
  const N = 100;
  /** Send N queries from the generator; how many replies came back (the kernel's own count). */
  function answered(spec: { dst: string; dstMac?: string; zeroCsum?: boolean }): { replies: number; c: Record<string, number> } {
    const v6 = spec.dst.includes(":");
    const f = buildFrame({ src: v6 ? "2001:db8::1" : "198.18.0.1", dst: spec.dst, dstMac: spec.dstMac ?? DUT_MAC, sport: 40001, dport: 53, payload: dnsQuery("www.example.test") });
    if (spec.zeroCsum) f[f.length - dnsQuery("www.example.test").length - 2] = f[f.length - dnsQuery("www.example.test").length - 1] = 0;
    const d0 = ethtoolStats(DUT, DUT), c0 = counters();
    deliverFrames(GEN, resolveIface(`${GEN}/${GEN}`).ifindex, f, N); // resolveIface enters the generator's namespace
    const d1 = ethtoolStats(DUT, DUT), c = diff(c0, counters());
    const tx = (d1.rx_queue_0_xdp_tx ?? 0) - (d0.rx_queue_0_xdp_tx ?? 0);
    expect(c.answered).toBe(tx); // every answer counted is a frame the kernel sent back
    return { replies: tx, c };
  }

  beforeAll(() => {
    xt("responder", "disable", DUT);
    inNs(DUT, ["ip", "addr", "del", "198.18.0.77/32", "dev", DUT]);
    inNs(DUT, ["ip", "addr", "add", "192.0.2.53/32", "dev", "lo"]); // an anycast VIP
    inNs(DUT, ["ip", "-6", "addr", "add", "2001:db8:53::53/128", "dev", "lo"]);
    xtOk("responder", "enable", DUT);
  });
  afterAll(() => {
    inNs(DUT, ["ip", "addr", "del", "198.18.0.77/32", "dev", DUT]);
    inNs(DUT, ["ip", "addr", "del", "192.0.2.53/32", "dev", "lo"]);
    inNs(DUT, ["ip", "-6", "addr", "del", "2001:db8:53::53/128", "dev", "lo"]);
  });

  test("100 of 100 to its own addresses and to VIPs on lo, IPv4 and IPv6", () => {
    for (const dst of ["198.18.0.2", "2001:db8::2", "192.0.2.53", "2001:db8:53::53"]) expect(answered({ dst }).replies, dst).toBe(N);
  });

  test("100 of 100 to an address added after enable (the watcher follows netlink)", async () => {
    expect(answered({ dst: "198.18.0.77" }).replies).toBe(0); // not yet ours
    inNs(DUT, ["ip", "addr", "add", "198.18.0.77/32", "dev", DUT]);
    for (let i = 0; i < 50 && !json<any[]>("responder", "status")[0].config.local.includes("198.18.0.77/32"); i++) await Bun.sleep(20);
    expect(answered({ dst: "198.18.0.77" }).replies).toBe(N);
    inNs(DUT, ["ip", "addr", "del", "198.18.0.77/32", "dev", DUT]);
    for (let i = 0; i < 50 && json<any[]>("responder", "status")[0].config.local.includes("198.18.0.77/32"); i++) await Bun.sleep(20);
    expect(answered({ dst: "198.18.0.77" }).replies).toBe(0); // and stops when it is removed
  });

  test("more addresses than the program's short list, and an AnyIP prefix on lo: answered through the tries", async () => {
    const vips = Array.from({ length: 10 }, (_, i) => `192.0.2.${100 + i}`);
    const local = () => json<any[]>("responder", "status")[0].config.local as string[];
    try {
      for (const v of vips) inNs(DUT, ["ip", "addr", "add", `${v}/32`, "dev", "lo"]);
      inNs(DUT, ["ip", "route", "add", "local", "198.51.100.0/24", "dev", "lo"]);
      for (let i = 0; i < 50 && !(local().includes("198.51.100.0/24") && local().includes(vips[9] + "/32")); i++) await Bun.sleep(20);
      for (const dst of [vips[0], vips[9], "198.51.100.9", "198.18.0.2"]) expect(answered({ dst }).replies, dst).toBe(N);
      expect(answered({ dst: "203.0.113.54" }).c.transit).toBe(N); // still only local ones
    } finally {
      inNs(DUT, ["ip", "route", "del", "local", "198.51.100.0/24", "dev", "lo"]);
      for (const v of vips) inNs(DUT, ["ip", "addr", "del", `${v}/32`, "dev", "lo"]);
    }
    for (let i = 0; i < 50 && local().includes("198.51.100.0/24"); i++) await Bun.sleep(20);
    expect(answered({ dst: "198.51.100.9" }).replies).toBe(0);
  });

  test("0 of 100 to a transit address via the DUT's MAC, counted as transit; 0 to a foreign unicast MAC", () => {
    inNs(DUT, ["ip", "route", "replace", "203.0.113.0/24", "via", "198.18.0.1"]);
    inNs(DUT, ["ip", "-6", "route", "replace", "2001:db8:99::/48", "via", "2001:db8::1"]);
    for (const dst of ["203.0.113.53", "2001:db8:99::53"]) {
      const r = answered({ dst });
      expect(r.replies, dst).toBe(0);
      expect(r.c.transit, dst).toBe(N);
    }
    const f = answered({ dst: "198.18.0.2", dstMac: "02:78:74:00:00:99" });
    expect(f.replies).toBe(0);
    expect(f.c.other_mac).toBe(N);
  });

  test("0 replies to IPv6 UDP with checksum 0 (RFC 8200 §8.1)", () => {
    const r = answered({ dst: "2001:db8::2", zeroCsum: true });
    expect(r.replies).toBe(0);
    expect(r.c.malformed).toBe(N);
  });

  test("--address narrows it to the service's addresses; the others count as transit", () => {
    xtOk("responder", "enable", DUT, "--address", "192.0.2.53,2001:db8:53::53");
    try {
      expect(answered({ dst: "192.0.2.53" }).replies).toBe(N);
      expect(answered({ dst: "2001:db8:53::53" }).replies).toBe(N);
      const own = answered({ dst: "198.18.0.2" });
      expect(own.replies).toBe(0);
      expect(own.c.transit).toBe(N);
    } finally {
      xtOk("responder", "enable", DUT);
    }
  });
});

describe("bad input: exit 2, one line, nothing changed", () => {
  test.each([
    [["--from", "198.18.0.0/33"]], [["--from", "not-an-address"]], [["--qname", "a..example"]], [["--qname", `${"x".repeat(64)}.test`]],
    [["--ports", "0"]], [["--ports", "70000"]], [["--ports", "1,2,3,4,5,6,7,8,9"]], [["--slip", "0"]], [["--over", "-5"]],
    [["--address", "198.18.0.0/24"]], [["--address", "nope"]], [["--address", ""]],
  ])("%p", (args) => {
    xtOk("responder", "enable", DUT, "--qname", "example.test");
    const before = json<any[]>("responder", "status").map((r) => r.config);
    const r = xt("responder", "enable", DUT, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(json<any[]>("responder", "status").map((r) => r.config)).toEqual(before);
  });

  test("unknown interface", () => {
    const r = xt("responder", "enable", "nosuch0");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no interface "nosuch0"');
  });
});
