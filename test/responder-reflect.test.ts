// Never a reflector: real frames from the lab's generator to the responder on the DUT, claiming a
// source no reply may go to (a reflection-loop port, loopback, the DUT's own address). The DUT's
// kernel counts what its XDP program sent back (xdp_tx) and dropped (xdp_drop); the responder
// counts the reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DUT, GEN, ethtoolStats, freshLab, inNs, json, xt, xtOk } from "./helpers.ts";
import { RESP_STATS } from "../src/responder/maps.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { deliverFrames } from "../src/lab/traffic.ts";

const DUT_MAC = "02:78:74:00:00:02"; // the lab's DUT end (src/lab/setup.ts)
const N = 100;

const counters = (): Record<string, number> => json<any[]>("responder", "status").find((r) => r.interface === DUT)?.counters ?? {};

/** N queries from the generator with this source; what the DUT's kernel and the responder counted. */
function send(src: string, sport: number, dst = src.includes(":") ? "2001:db8::2" : "198.18.0.2") {
  const f = buildFrame({ src, dst, dstMac: DUT_MAC, sport, dport: 53, payload: dnsQuery("www.example.test") });
  const d0 = ethtoolStats(DUT, DUT), c0 = counters();
  deliverFrames(GEN, resolveIface(`${GEN}/${GEN}`).ifindex, f, N);
  const d1 = ethtoolStats(DUT, DUT), c1 = counters();
  const delta = (k: string) => (d1[k] ?? 0) - (d0[k] ?? 0);
  return { tx: delta("rx_queue_0_xdp_tx"), drop: delta("rx_queue_0_xdp_drops"), c: Object.fromEntries(RESP_STATS.map((k) => [k, c1[k] - c0[k]])) };
}

beforeAll(() => {
  freshLab();
  inNs(DUT, ["ip", "addr", "add", "192.0.2.53/32", "dev", "lo"]); // a VIP: also "this host"
  xtOk("responder", "enable", DUT);
});
afterAll(() => xt("lab", "down"));

describe("queries from sources no reply may go to: no reply, dropped, counted by reason", () => {
  test("a normal client port is answered (the control: the same frames, another port)", () => {
    for (const src of ["198.18.0.1", "2001:db8::1", "2001:db8::ffff:198.18.0.1"]) expect(send(src, 40001).tx, src).toBe(N);
  });

  test.each([0, 7, 13, 17, 19, 37])("UDP source port %d (IPv4 and IPv6)", (port) => {
    for (const src of ["198.18.0.1", "2001:db8::1"]) {
      const r = send(src, port);
      expect([src, r.tx, r.drop]).toEqual([src, 0, N]);
      expect(r.c).toMatchObject({ answered: 0, reflect_port: N, martian_source: 0 });
    }
  });

  test("ports next to them are answered: 6, 8, 36, 38, 1024", () => {
    for (const port of [6, 8, 36, 38, 1024]) expect(send("198.18.0.1", port).tx, String(port)).toBe(N);
  });

  // IPv6 ::/96 and ::ffff:0:0/96 (unspecified, IPv4-compatible, IPv4-mapped: loopback or ours by
  // another spelling) too: the DUT's kernel delivers these to UDP sockets, so only we can refuse.
  const MARTIANS = ["127.0.0.1", "127.53.0.9", "::1", "198.18.0.2", "2001:db8::2", "192.0.2.53",
    "::", "::ffff:127.0.0.1", "::ffff:198.18.0.2", "::ffff:198.18.0.1", "::198.18.0.1"];
  test.each(MARTIANS)("source %s (loopback, or this host's own)", (src) => {
    const r = send(src, 40001);
    expect([r.tx, r.drop]).toEqual([0, N]);
    expect(r.c).toMatchObject({ answered: 0, martian_source: N, reflect_port: 0 });
  });

  test("the counters are in `responder status`, as columns and in --json", () => {
    const text = xtOk("responder", "status", DUT);
    expect(text).toContain("REFLECT_PORT");
    expect(text).toContain("MARTIAN_SOURCE");
    const c = counters();
    expect(c.reflect_port).toBe(6 * 2 * N);
    expect(c.martian_source).toBe(MARTIANS.length * N);
  });
});
