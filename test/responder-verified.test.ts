// --unverified-only with a real server behind the DUT (NSD) and real dig in front: a source gets TC
// until it has completed a TCP exchange with the server, then its UDP queries reach the server. A
// spoofed source (no handshake) and a random-source flood only ever get TC, and add nothing to the
// verified map. The kernel's socket table is the judge: no handshake, no socket, no verification.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DUT, GEN, ethtoolStats, freshLab, inNs, json, xt, xtOk } from "./helpers.ts";
import { dig, flags, labWithNsd } from "./nsd.ts";
import { RESP_STATS } from "../src/responder/maps.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { resolveIface } from "../src/ffi/netns.ts";
import { deliverFrames } from "../src/lab/traffic.ts";

const DUT_MAC = "02:78:74:00:00:02"; // the lab's DUT end (src/lab/setup.ts)

const status = () => json<any[]>("responder", "status").find((r) => r.interface === DUT);
const counters = (): Record<string, number> => status()?.counters ?? {};
const diff = (a: Record<string, number>, b: Record<string, number>) => Object.fromEntries(RESP_STATS.map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)]));

/** n frames from the generator: UDP queries, or TCP segments (flags byte given) to port 53. */
function send(src: string, n: number, tcpFlags?: number) {
  const v6 = src.includes(":");
  const f = buildFrame({ src, dst: v6 ? "2001:db8::2" : "198.18.0.2", dstMac: DUT_MAC, sport: 40002, dport: 53,
    l4: tcpFlags === undefined ? "udp" : "tcp", payload: tcpFlags === undefined ? dnsQuery("www.example.test") : undefined });
  if (tcpFlags !== undefined) f[14 + (v6 ? 40 : 20) + 13] = tcpFlags;
  const c0 = counters();
  deliverFrames(GEN, resolveIface(`${GEN}/${GEN}`).ifindex, f, n);
  return diff(c0, counters());
}

/** dig over TCP, then wait for the segment that verifies the source (dig's ACK or FIN). */
async function overTcp(server: string, type: string) {
  const c0 = counters();
  const r = dig(["+tcp", "www.example.test", type], server);
  for (let i = 0; i < 50 && diff(c0, counters()).newly_verified === 0; i++) await Bun.sleep(20);
  return { r, d: diff(c0, counters()) };
}

labWithNsd();

describe("dig against --unverified-only with NSD behind", () => {
  for (const [server, type, answer] of [["198.18.0.2", "A", "198.18.0.80"], ["2001:db8::2", "AAAA", "2001:db8::80"]]) {
    test(`${server}: UDP → TC; +tcp → NSD's answer, source verified; UDP again → NSD's answer, no TC`, async () => {
      xt("responder", "disable", DUT); // a fresh program: an empty verified map
      xtOk("responder", "enable", DUT, "--unverified-only");
      let c0 = counters();
      const first = dig(["+ignore", "www.example.test", type], server);
      expect(flags(first.stdout)).toContain("tc");
      expect(first.stdout).not.toContain(answer);
      expect(diff(c0, counters())).toMatchObject({ answered: 1, answered_unverified: 1, passed_verified: 0 });

      const tcp = await overTcp(server, type);
      expect(tcp.r.stdout).toMatch(new RegExp(`www\\.example\\.test\\.\\s+300\\s+IN\\s+${type}\\s+${answer}`));
      expect(flags(tcp.r.stdout)).toContain("aa");
      expect(tcp.d.newly_verified).toBe(1); // one source, however many segments
      expect(status().config.verified).toBe(1);

      c0 = counters();
      const again = dig(["+ignore", "www.example.test", type], server);
      expect(flags(again.stdout)).toContain("aa");
      expect(flags(again.stdout)).not.toContain("tc");
      expect(again.stdout).toContain("(UDP)");
      expect(diff(c0, counters())).toMatchObject({ answered: 0, passed_verified: 1 });
    });
  }

  test("verified per /32 and /64: the same /64 passes, another /64 and another IPv4 address get TC", async () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT, "--unverified-only");
    await overTcp("2001:db8::2", "AAAA");
    await overTcp("198.18.0.2", "A");
    expect(send("2001:db8::1234", 10)).toMatchObject({ passed_verified: 10, answered: 0 });
    expect(send("2001:db8:0:1::1", 10)).toMatchObject({ passed_verified: 0, answered_unverified: 10 });
    expect(send("198.18.0.9", 10)).toMatchObject({ passed_verified: 0, answered_unverified: 10 });
    // Configurable: per /24, 198.18.0.9 shares 198.18.0.1's aggregate (which a new TCP exchange verifies).
    xtOk("responder", "enable", DUT, "--unverified-only", "--verified-v4-prefix", "24");
    await overTcp("198.18.0.2", "A");
    expect(send("198.18.0.9", 10)).toMatchObject({ passed_verified: 10 });
  });

  test("a TCP segment from a spoofed source (an ACK with no connection behind it) verifies nothing", () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT, "--unverified-only");
    for (const src of ["198.18.0.33", "2001:db8::33"]) {
      expect(send(src, 20, 0x10 /* ACK */).newly_verified).toBe(0);
      expect(send(src, 20, 0x18 /* PSH ACK, as a query segment */).newly_verified).toBe(0);
      expect(send(src, 10)).toMatchObject({ answered_unverified: 10, passed_verified: 0 });
    }
    expect(status().config.verified).toBe(0);
  });

  test("a random-source flood: every query TC'd, the verified map stays empty, NSD sees none", async () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT, "--unverified-only");
    const nsdRx = () => Number(inNs(DUT, ["nstat", "-asz", "UdpInDatagrams"]).stdout.match(/UdpInDatagrams\s+(\d+)/)?.[1] ?? 0);
    const u0 = nsdRx(), c0 = counters(), d0 = ethtoolStats(DUT, DUT);
    const N = 20000;
    xtOk("lab", "traffic", "--dns", "www.example.test", "--src-random", "198.18.128.0/17", "--count", String(N), "--size", "76");
    const d = diff(c0, counters()), d1 = ethtoolStats(DUT, DUT);
    expect(d).toMatchObject({ answered: N, answered_unverified: N, passed_verified: 0, newly_verified: 0 });
    const sent = d1.rx_queue_0_xdp_tx - (d0.rx_queue_0_xdp_tx ?? 0), refused = (d1.rx_queue_0_xdp_tx_errors ?? 0) - (d0.rx_queue_0_xdp_tx_errors ?? 0);
    expect(sent + refused).toBe(N);
    expect(nsdRx() - u0).toBe(0); // not one datagram reached the host's UDP stack
    expect(status().config.verified).toBe(0);
  });

  test("--verified-ttl: a verified source is unverified again once it expires", async () => {
    xt("responder", "disable", DUT);
    xtOk("responder", "enable", DUT, "--unverified-only", "--verified-ttl", "1s");
    await overTcp("198.18.0.2", "A");
    expect(send("198.18.0.1", 5)).toMatchObject({ passed_verified: 5 });
    expect(status().config.verified).toBe(1);
    await Bun.sleep(1500);
    expect(send("198.18.0.1", 5)).toMatchObject({ passed_verified: 0, answered_unverified: 5 });
    // Expired is not verified, in `status` too (the entry itself stays until the LRU evicts it).
    expect(status().config.verified).toBe(0);
  });
});

describe("bad input: exit 2, one line, nothing changed", () => {
  test("the longest --verified-ttl, 365d, is taken", () => {
    xtOk("responder", "enable", DUT, "--unverified-only", "--verified-ttl", "365d");
    expect(status().config.verifiedTtl).toBe(365 * 86400);
  });

  test.each([
    [["--unverified-only", "--verified-ttl", "0"]], [["--unverified-only", "--verified-ttl", "-5"]], [["--unverified-only", "--verified-ttl", "-1h"]],
    [["--unverified-only", "--verified-ttl", "soon"]], [["--unverified-only", "--ports", "5353"]], [["--unverified-only", "--ports", "5353,5300"]],
    [["--unverified-only", "--verified-v6-prefix", "129"]], [["--unverified-only", "--verified-v4-prefix", "0"]],
    // Longer than a year: 300000d overflowed the config's u64 of ns (a stack trace's words, exit 1).
    // citty took any value of a boolean but "false" as true: --unverified-only=no switched it on.
    [["--unverified-only=no"]], [["--unverified-only=0"]], [["--unverified-only=off"]],
    // …and kept only the last of a repeated option: a.test was dropped without a word.
    [["--qname", "a.test", "--qname", "b.test"]], [["--unverified-only", "--ports", "53", "--ports=5353"]],
    [["--unverified-only", "--verified-ttl", "366d"]], [["--unverified-only", "--verified-ttl", "300000d"]], [["--unverified-only", "--verified-ttl", "999999999h"]],
  ])("%p", (args) => {
    xtOk("responder", "enable", DUT, "--qname", "example.test");
    const before = status().config;
    const r = xt("responder", "enable", DUT, ...args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(status().config).toEqual(before);
  });
});
