// blacklist-gen.ts — random rule sets and random frames for the differential test.
// A seeded PRNG, so a failure names a seed that reproduces it.
import { buildFrame } from "../src/net/packet.ts";
import { formatIPv4, formatIPv6, formatMac, parsePrefix } from "../src/net/addr.ts";
import type { Rule } from "../src/blacklist/rules.ts";
import type { RefRule } from "./oracles/blacklist.ts";

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 0x100000000;
  };
}

export class Gen {
  readonly r: () => number;
  readonly v4: Uint8Array[] = [];
  readonly v6: Uint8Array[] = [];
  readonly macs: Uint8Array[] = [];
  constructor(seed: number) {
    this.r = rng(seed);
    // Small address pools so that rules and packets meet often, with nested prefixes.
    for (let i = 0; i < 24; i++) this.v4.push(Uint8Array.from([198, 18 + this.int(2), this.int(4), this.int(8)]));
    for (let i = 0; i < 16; i++) {
      const a = new Uint8Array(16);
      a.set([0x20, 0x01, 0x0d, 0xb8, 0, this.int(4), 0, this.int(4)]);
      a[15] = this.int(8);
      this.v6.push(a);
    }
    for (let i = 0; i < 6; i++) this.macs.push(Uint8Array.from([2, 0, 0, 0, 0, i + 1]));
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  port(): number {
    return this.chance(0.8) ? this.pick([22, 53, 80, 443, 0, 65535]) : this.int(65536);
  }
  /** An address near the pool: a pool member, its neighbour, or anything in the lab range. */
  addr(v6: boolean): Uint8Array {
    const a = (v6 ? this.pick(this.v6) : this.pick(this.v4)).slice();
    if (this.chance(0.3)) a[a.length - 1] ^= 1 << this.int(8);
    if (this.chance(0.1)) a[a.length - 2] ^= 1 << this.int(8);
    return a;
  }

  rule(now: bigint): Omit<RefRule, "id"> {
    const allow = this.chance(0.15);
    const kind = this.int(10);
    const dir = this.chance(0.6) ? "src" : "dst";
    let match: Rule["match"];
    if (kind < 1) match = { kind: "mac", dir, mac: this.pick(this.macs) };
    else if (kind < 6) {
      const v6 = this.chance(0.35);
      const max = v6 ? 128 : 32;
      const len = this.chance(0.3) ? max : this.int(max + 1);
      const a = this.addr(v6);
      match = { kind: "prefix", dir, prefix: parsePrefix(`${v6 ? formatIPv6(a) : formatIPv4(a)}/${len}`) };
    } else match = { kind: "none" };
    let l4: Rule["l4"];
    const k = this.int(3);
    if (k === 0 && match.kind !== "none") l4 = { kind: "none" };
    else if (k === 1) l4 = { kind: "proto", proto: this.pick([1, 6, 17, 47, 58, 44, 0]) };
    else l4 = { kind: "port", proto: this.pick([6, 17] as const), dir: this.chance(0.7) ? "dst" : "src", port: this.port() };
    const e = this.int(10);
    const expires = e === 0 ? 1n : e === 1 ? now + 3_600_000_000_000n : 0n;
    return { allow, match, l4, expires };
  }

  frame(): Uint8Array {
    const v6 = this.chance(0.4);
    const kind = this.int(20);
    if (kind === 0) return this.randomBytes();
    if (kind === 1) return this.arp();
    if (kind === 2) return this.nd();
    const f = buildFrame({
      srcMac: formatMac(this.chance(0.2) ? this.pick(this.macs) : Uint8Array.from([2, 0x78, 0x74, 0, 0, 1])),
      dstMac: formatMac(this.chance(0.1) ? this.pick(this.macs) : Uint8Array.from([2, 0x78, 0x74, 0, 0, 2])),
      vlans: this.chance(0.2) ? (this.chance(0.5) ? [this.int(4095)] : [this.int(4095), this.int(4095)]) : undefined,
      src: v6 ? formatIPv6(this.addr(true)) : formatIPv4(this.addr(false)),
      dst: v6 ? formatIPv6(this.addr(true)) : formatIPv4(this.addr(false)),
      l4: this.pick(["udp", "tcp", "icmp", "none"] as const),
      sport: this.port(),
      dport: this.port(),
      payload: new Uint8Array(this.int(32)),
    });
    let out = Buffer.from(f);
    const l2 = 14 + (out.readUInt16BE(12) === 0x88a8 ? 8 : out.readUInt16BE(12) === 0x8100 ? 4 : 0);
    if (v6 && this.chance(0.3)) out = this.withExtHeaders(out, l2);
    if (!v6 && this.chance(0.15)) {
      // Fragment: first (MF, offset 0) or later (offset > 0).
      const later = this.chance(0.5);
      out.writeUInt16BE(later ? 0x2000 | (1 + this.int(100)) : 0x2000, l2 + 6);
    }
    if (!v6 && this.chance(0.05)) out[l2] = 0x40 | this.int(16); // odd IHL / options
    if (this.chance(0.1)) out = out.subarray(0, this.int(out.length + 1)); // truncated anywhere
    return new Uint8Array(out);
  }

  private withExtHeaders(f: Buffer, l2: number): Buffer {
    const n = 1 + this.int(7);
    const parts: Buffer[] = [];
    let next = f[l2 + 6];
    const types: number[] = [];
    for (let i = 0; i < n; i++) types.push(this.pick([0, 43, 60, 44, 51]));
    // Build from the last header back so each names the one after it.
    for (let i = n - 1; i >= 0; i--) {
      const t = types[i];
      let h: Buffer;
      if (t === 44) {
        h = Buffer.alloc(8);
        const later = this.chance(0.4);
        h.writeUInt16BE(later ? ((1 + this.int(50)) << 3) | (this.int(2)) : this.int(2), 2);
      } else if (t === 51) {
        const words = 1 + this.int(3); // payload len field = words
        h = Buffer.alloc((words + 2) * 4);
        h[1] = words;
      } else {
        const units = this.int(3);
        h = Buffer.alloc((units + 1) * 8);
        h[1] = units;
      }
      h[0] = next;
      next = t;
      parts.unshift(h);
    }
    const out = Buffer.concat([f.subarray(0, l2 + 40), ...parts, f.subarray(l2 + 40)]);
    out[l2 + 6] = next;
    return out;
  }

  private arp(): Uint8Array {
    const f = Buffer.alloc(42);
    f.set(this.chance(0.5) ? [255, 255, 255, 255, 255, 255] : this.pick(this.macs), 0);
    f.set(this.pick(this.macs), 6);
    f.writeUInt16BE(0x0806, 12);
    f.set([0, 1, 8, 0, 6, 4, 0, this.chance(0.5) ? 1 : 2], 14);
    f.set(this.pick(this.macs), 22);
    f.set(this.addr(false), 28);
    f.set(this.addr(false), 38);
    if (this.chance(0.1)) f[18] = 16; // not Ethernet/IPv4 sizes
    return this.chance(0.1) ? f.subarray(0, 14 + this.int(28)) : f;
  }

  private nd(): Uint8Array {
    const na = this.chance(0.5);
    const f = Buffer.from(buildFrame({ src: formatIPv6(this.addr(true)), dst: formatIPv6(this.addr(true)), l4: "icmp", payload: new Uint8Array(16) }));
    const icmp = 14 + 40;
    f[icmp] = na ? 136 : 135;
    f.set(this.addr(true), icmp + 8);
    return f;
  }

  private randomBytes(): Uint8Array {
    const f = new Uint8Array(this.int(80));
    for (let i = 0; i < f.length; i++) f[i] = this.int(256);
    if (f.length >= 14 && this.chance(0.7)) f.set(this.pick([[8, 0], [0x86, 0xdd], [8, 6], [0x81, 0]]), 12);
    return f;
  }
}
