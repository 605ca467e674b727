// The responder program judged frame by frame through BPF_PROG_TEST_RUN (no client, no server):
// rate selection per source aggregate, and a fuzz corpus held against an independent reference
// (test/oracles/responder.ts), every reply's checksums verified from scratch.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DUT, freshLab, json, xt } from "./helpers.ts";
import { reference } from "./oracles/responder.ts";
import { buildFrame, dnsQuery } from "../src/net/packet.ts";
import { parseMac, parsePrefix } from "../src/net/addr.ts";
import { fdById, closeFd } from "../src/ffi/fd.ts";
import { testRun } from "../src/ffi/prog.ts";

const DUT_MAC = "02:78:74:00:00:02"; // the lab's DUT end (src/lab/setup.ts)

beforeAll(() => freshLab());
afterAll(() => xt("lab", "down"));

const counters = (): Record<string, number> => json<any[]>("responder", "status").find((r) => r.interface === DUT)?.counters ?? {};

describe("rate selection through BPF_PROG_TEST_RUN", () => {
  const q = (src: string) => buildFrame({ src, dst: src.includes(":") ? "2001:db8::2" : "198.18.0.2", sport: 5000, dport: 53, payload: dnsQuery("www.example.test") });

  test("sources aggregate per /24 and /56: a new aggregate passes, the same aggregate is over the limit", () => {
    xt("responder", "disable", DUT);
    const { progId } = json("responder", "enable", DUT, "--over", "1", "--slip", "1"); // 1 q/s: a bucket of one query
    const fd = fdById("prog", progId);
    try {
      const run = (src: string) => testRun(fd, { data: q(src), dataOut: 512 }).retval;
      // First query of an aggregate fits its bucket (XDP_PASS to the server); the next one from
      // anywhere in the same /24 or /56 finds the bucket empty and, with slip 1, gets TC (XDP_TX).
      expect([run("198.18.5.1"), run("198.18.5.200"), run("198.18.6.1")]).toEqual([2, 3, 2]);
      expect([run("2001:db8:0:100::1"), run("2001:db8:0:1ff::9"), run("2001:db8:0:200::1")]).toEqual([2, 3, 2]);
    } finally {
      closeFd(fd);
    }
  });

  test("--slip 2: of an over-limit source, every 2nd query is answered and the others dropped", () => {
    xt("responder", "disable", DUT);
    const { progId } = json("responder", "enable", DUT, "--over", "1", "--slip", "2", "--v4-prefix", "32");
    const fd = fdById("prog", progId);
    try {
      const seq = Array.from({ length: 7 }, () => testRun(fd, { data: q("198.18.9.9"), dataOut: 512 }).retval);
      expect(seq).toEqual([2, 1, 3, 1, 3, 1, 3]); // pass (in budget), then drop/TC alternating
      expect(testRun(fd, { data: q("198.18.9.10"), dataOut: 512 }).retval).toBe(2); // /32: its own bucket
    } finally {
      closeFd(fd);
    }
  });
});

/** RFC 1071 written out here, word by word, sharing no code with the program or the
 *  reference (which both use src/net/packet.ts csumAdd): the ones'-complement sum of the
 *  pieces as one byte string, folded. A header or segment with a right checksum sums to 0xffff. */
function onesSum(...pieces: Uint8Array[]): number {
  const all = pieces.flatMap((p) => Array.from(p));
  if (all.length % 2) all.push(0);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) {
    sum += all[i] * 256 + all[i + 1];
    sum = (sum & 0xffff) + (sum >>> 16); // end-around carry at every step
  }
  return sum;
}

/** Checksums verified from scratch, apart from both the program and the reference. */
function checksumsOk(r: Uint8Array): boolean {
  let l3 = 14;
  while (((r[l3 - 2] << 8) | r[l3 - 1]) === 0x8100 || ((r[l3 - 2] << 8) | r[l3 - 1]) === 0x88a8) l3 += 4;
  const v6 = ((r[l3 - 2] << 8) | r[l3 - 1]) === 0x86dd;
  const seg = r.subarray(l3 + (v6 ? 40 : 20));
  const len = Uint8Array.of(0, 0, seg.length >> 8, seg.length & 255);
  if (!v6 && onesSum(r.subarray(l3, l3 + 20)) !== 0xffff) return false;
  const pseudo = v6
    ? [r.subarray(l3 + 8, l3 + 40), len, Uint8Array.of(0, 0, 0, 17)] // addresses, length, next header
    : [r.subarray(l3 + 12, l3 + 20), Uint8Array.of(0, 17), len.subarray(2)]; // addresses, protocol, length
  return onesSum(...pseudo, seg) === 0xffff;
}

describe("reply checksums, query by query", () => {
  // Each kind of reply the rewrite sums differently: IPv4 (header checksum too) and IPv6 (no
  // header checksum, a longer pseudo-header); no OPT, an OPT kept, an OPT whose options are cut;
  // a question ending on each byte of a 32-bit word (the summed word is masked) and so an OPT at
  // an odd offset (its bytes summed swapped); trailing bytes cut; and queries whose own UDP
  // checksum is wrong, or 0 (none, IPv4): the reply's is computed afresh, never carried over.
  test("IPv4/IPv6 × EDNS none/kept/options cut × question length mod 4 × tail cut or not × query checksum right/wrong/0: every reply's checksums are right", () => {
    const { progId } = json("responder", "enable", DUT, "--qname", "example.test");
    const fd = fdById("prog", progId);
    const st = json<any[]>("responder", "status").find((r) => r.interface === DUT).config;
    const cfg = { ports: [53], qnames: ["example.test"], mac: parseMac(st.mac)!, local: st.local.map(parsePrefix) };
    const opt = (options: number[]) => [0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, options.length >> 8, options.length & 255, ...options];
    const cookie = [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
    let n = 0;
    try {
      for (const v6 of [false, true])
        for (const name of ["a.example.test", "ab.example.test", "abc.example.test", "abcd.example.test"])
          for (const edns of [null, opt([]), opt(cookie)])
            for (const tail of [[], [9, 8, 7, 6, 5, 4, 3]])
              for (const csum of ["right", "wrong", "zero"] as const) {
                if (v6 && csum === "zero") continue; // IPv6 UDP without a checksum is never answered
                let q = dnsQuery(name, 0x4242 + n);
                if (edns) {
                  q = Uint8Array.from([...q, ...edns]);
                  q[11] = 1; // ARCOUNT
                }
                const f = buildFrame({ src: v6 ? "2001:db8::1" : "198.18.0.1", dst: v6 ? "2001:db8::2" : "198.18.0.2", dstMac: DUT_MAC, sport: 40000 + n, dport: 53, payload: Uint8Array.from([...q, ...tail]) });
                const at = f.length - q.length - tail.length - 2; // the UDP checksum field
                if (csum === "wrong") f[at + 1] ^= 0x5a;
                if (csum === "zero") f[at] = f[at + 1] = 0;
                const ctx = `${v6 ? "IPv6" : "IPv4"} ${name} edns=${edns ? edns.length : "none"} tail=${tail.length} query checksum ${csum}: ${Buffer.from(f).toString("hex")}`;
                const r = testRun(fd, { data: f, dataOut: 512 });
                expect(r.retval, ctx).toBe(3); // XDP_TX
                expect(checksumsOk(r.dataOut!), ctx).toBe(true);
                const ref = reference(f, cfg);
                expect(ref.action, ctx).toBe("tx");
                if (ref.action === "tx") expect(Buffer.from(r.dataOut!).toString("hex"), ctx).toBe(Buffer.from(ref.reply).toString("hex"));
                expect(r.dataOut!.length, ctx).toBe(f.length - tail.length - (edns === null ? 0 : edns.length - 11));
                n++;
              }
    } finally {
      closeFd(fd);
    }
    expect(n).toBe(2 * 4 * 3 * 2 * 3 - 4 * 3 * 2); // IPv6 has no checksum-0 case
  });
});

describe("fuzz: kernel program vs reference, through BPF_PROG_TEST_RUN", () => {
  // xorshift32, seeded so a failure can be replayed (the seed is in the test name).
  const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
  let s = SEED >>> 0 || 1;
  const rnd = (n: number) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
  const pick = <T>(a: T[]): T => a[rnd(a.length)];

  const names = ["www.example.test", "Example.TEST", "a.b.attack.test", "attack.test", "badexample.test", "example.test.evil",
    "x.other", "example", "test", `${"a".repeat(63)}.example.test`, [..."abcd"].map((c) => c.repeat(63)).join("."),
    [..."abc"].map((c) => c.repeat(63)).join(".") + `.${"d".repeat(59)}.example.test`];
  /** An EDNS OPT record: any UDP size, version mostly 0 (else BADVERS), DO or not, other flag
   *  bits and extended RCODE set at times, options (COOKIE, NSID, padding) or none, and at times
   *  an RDLENGTH that does not match what follows (past the payload, or short of it). */
  function opt(): number[] {
    const options = pick([[], [], [0, 10, 0, 8, ...Array.from({ length: 8 }, () => rnd(256))], // client COOKIE
      [0, 10, 0, 24, ...Array.from({ length: 24 }, () => rnd(256))], [0, 3, 0, 0], [0, 12, 0, rnd(40), ...Array(40).fill(0)].slice(0, 4 + rnd(44))]);
    const rdlen = rnd(8) === 0 ? rnd(64) : options.length;
    return [0, 0, 41, rnd(256), rnd(256), rnd(8) === 0 ? rnd(256) : 0, pick([0, 0, 0, 1, 255]),
      pick([0, 0x80, 0x80, 0x40, 0xff]), rnd(4) === 0 ? rnd(256) : 0, rdlen >> 8, rdlen & 255, ...options];
  }

  function base(): Uint8Array {
    const v6 = rnd(2) === 1;
    let q = dnsQuery(pick(names), rnd(65536), pick([1, 28, 16, 255]));
    if (rnd(2)) {
      q = Uint8Array.from([...q, ...opt()]);
      q[11] = 1; // ARCOUNT
    }
    if (rnd(4) === 0) q = Uint8Array.from([...q, ...Array.from({ length: rnd(40) }, () => rnd(256))]); // trailing bytes in UDP
    // Mostly unicast; sometimes a group address (never answered: a reply would go to everyone).
    const group = rnd(8) === 0;
    // Mostly to the DUT itself; sometimes to a host behind it (transit), never answered.
    const transit = rnd(8) === 0;
    const dst = v6 ? (group ? pick(["ff02::fb", "ff05::1:3"]) : transit ? "2001:db8:99::53" : "2001:db8::2")
      : group ? pick(["224.0.0.251", "255.255.255.255", "239.1.2.3"]) : transit ? "203.0.113.53" : "198.18.0.2";
    // Mostly a client; sometimes a group or null address (passed), loopback or the DUT's own (dropped).
    const src = rnd(16) === 0 ? (v6 ? pick(["ff02::1", "::1", "2001:db8::2"]) : pick(["224.0.0.1", "0.0.0.0", "127.0.0.1", "127.9.9.9", "198.18.0.2"]))
      : v6 ? "2001:db8::1" : "198.18.0.1";
    const dstMac = rnd(8) === 0 ? pick(["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:fb", "33:33:00:00:00:fb", "02:78:74:00:00:99"]) : DUT_MAC;
    const f = buildFrame({ src, dst, dstMac, sport: rnd(16) === 0 ? pick([0, 7, 13, 17, 19, 37, 36, 38]) : 1024 + rnd(60000),
      dport: pick([53, 53, 53, 5353, 54]), payload: q, vlans: pick([[], [], [100], [10, 20]]) });
    if (v6 && rnd(16) === 0) f[f.length - q.length - 2] = f[f.length - q.length - 1] = 0; // UDP checksum 0
    if (rnd(4) === 0) return Uint8Array.from([...f, ...Array.from({ length: rnd(30) }, () => 0)]); // Ethernet padding
    return f;
  }

  function mutate(f: Uint8Array): Uint8Array {
    const m = Uint8Array.from(f);
    switch (rnd(6)) {
      case 0: return m.subarray(0, Math.max(14, rnd(m.length + 1))); // truncated
      case 1: for (let i = rnd(4) + 1; i > 0; i--) m[rnd(m.length)] = rnd(256); return m; // random bytes
      case 2: for (let i = rnd(3) + 1; i > 0; i--) m[rnd(m.length)] ^= 1 << rnd(8); return m; // bit flips
      case 3: { // a header byte: flags, counts, lengths, IHL, fragment bits, next header
        const at = [12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65];
        m[pick(at) % m.length] = pick([0, 1, 0xc0, 0x40, 0x80, 0xff, 0x3f, 0x46, 0x20, 0x02, rnd(256)]);
        return m;
      }
      case 4: return Uint8Array.from([...m, ...Array.from({ length: rnd(64) }, () => rnd(256))]); // grown
      default: return Uint8Array.from({ length: 14 + rnd(300) }, () => rnd(256)); // noise
    }
  }

  test(`5000 random and mutated frames (seed ${SEED}): every XDP_TX is the reference reply, never larger; the rest pass untouched`, () => {
    const { progId } = json("responder", "enable", DUT, "--ports", "53,5353", "--qname", "example.test,attack.test");
    const fd = fdById("prog", progId);
    const st = json<any[]>("responder", "status").find((r) => r.interface === DUT).config;
    const cfg = { ports: [53, 5353], qnames: ["example.test", "attack.test"], mac: parseMac(st.mac)!, local: st.local.map(parsePrefix) };
    const seen = { tx: 0, pass: 0, drop: 0, opt: 0, badvers: 0, dnssecOk: 0 };
    try {
      for (let i = 0; i < 5000; i++) {
        const input = rnd(3) === 0 ? base() : mutate(base());
        const ref = reference(input, cfg);
        const r = testRun(fd, { data: input, dataOut: 4096 });
        const ctx = `frame ${i}: ${Buffer.from(input).toString("hex")}`;
        if (ref.action === "tx") {
          expect(r.retval, ctx).toBe(3); // XDP_TX
          expect(r.dataOut!.length, ctx).toBeLessThanOrEqual(input.length);
          expect(Buffer.from(r.dataOut!).toString("hex"), ctx).toBe(Buffer.from(ref.reply).toString("hex"));
          expect(checksumsOk(r.dataOut!), ctx).toBe(true);
          seen.tx++;
          // An OPT, if any, is the reply's last 11 bytes: root, type 41, UDP size 1232.
          const out = ref.reply, o = out.length - 11;
          if ([0, 0, 41, 0x04, 0xd0].every((x, k) => out[o + k] === x)) {
            seen.opt++;
            if (out[o + 5] === 1) seen.badvers++;
            if (out[o + 7] === 0x80) seen.dnssecOk++;
          }
        } else if (ref.action === "drop") {
          expect(r.retval, `${ctx} (${ref.why})`).toBe(1); // XDP_DROP
          seen.drop++;
        } else {
          expect(r.retval, `${ctx} (${ref.why})`).toBe(2); // XDP_PASS
          expect(Buffer.from(r.dataOut!).toString("hex"), ctx).toBe(Buffer.from(input).toString("hex"));
          seen.pass++;
        }
      }
    } finally {
      closeFd(fd);
    }
    // The corpus must exercise both sides, or the test proves nothing.
    expect(seen.tx).toBeGreaterThan(300);
    expect(seen.pass).toBeGreaterThan(1000);
    expect(seen.drop).toBeGreaterThan(50);
    // …and the EDNS cases: replies with OPT, BADVERS among them, DO copied.
    expect(seen.opt).toBeGreaterThan(100);
    expect(seen.badvers).toBeGreaterThan(10);
    expect(seen.dnssecOk).toBeGreaterThan(20);
    const c = counters();
    for (const k of ["answered", "not_dns", "not_query", "malformed", "no_match", "transit", "other_mac", "reflect_port", "martian_source"]) expect(c[k]).toBeGreaterThan(0);
  });
});
