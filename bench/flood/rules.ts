// rules.ts — the flood bench's rule set: what a blocklist under attack looks like. About 1M botnet
// /32s, tens of thousands of mixed /16–/28 prefixes and 100k IPv6 entries, drawn from a seeded
// generator (the same list every run). Data only: the addresses are never the lab's (198.18.0.0/15,
// 2001:db8::/32), and the frames that carry them never leave the lab's namespaces.
import { sourceList, type SourceList } from "../../src/net/sources.ts";

export interface RuleSet {
  /** IPv4 /32s, host byte order, unique, in random order. */
  hosts: Uint32Array;
  /** IPv4 prefixes /16–/28 (network addresses, host byte order) and their lengths. */
  prefixes: Uint32Array;
  prefixLens: Uint8Array;
  /** IPv6 /128s and /48–/64 prefixes, as rule-file lines. */
  v6: string[];
}

/** mulberry32: small, fast and seeded. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// Space a real list would not hold (private, loopback, link-local, the lab's), checked per /16.
const SKIP = [[0x0a000000, 8], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12], [0xc0a80000, 16], [0xc6120000, 15], [0x64400000, 10]] as const;
const skipped = (a: number) => SKIP.some(([net, len]) => (a >>> (32 - len)) === (net >>> (32 - len)));

/** A unicast address: half from 100.64.0.0/10 (a dense botnet), half from 1.0.0.0–223.255.255.255. */
function botAddr(r: () => number): number {
  if (r() & 1) return (0x64400000 | (r() & 0x3fffff)) >>> 0;
  for (;;) {
    const a = r();
    if (a >>> 24 >= 1 && a >>> 24 <= 223 && !skipped(a)) return a;
  }
}

/** Prefix lengths as blocklists have them: mostly /24, some shorter, some longer. */
function prefixLen(r: () => number): number {
  const x = r() % 100;
  return x < 2 ? 16 : x < 12 ? 17 + (r() % 4) : x < 30 ? 21 + (r() % 3) : x < 80 ? 24 : 25 + (r() % 4);
}

function v6Line(r: () => number, len: number): string {
  const g = Array.from({ length: 8 }, () => r() & 0xffff);
  g[0] = 0x2400 + (r() % 0x800); // global unicast, far from 2001:db8::/32
  const keep = Math.ceil(len / 16);
  if (len % 16) g[keep - 1] &= 0xffff << (16 - (len % 16));
  const hex = g.slice(0, keep).map((x) => x.toString(16));
  return len === 128 ? hex.join(":") : `${hex.join(":")}::/${len}`;
}

export function makeRuleSet(nHosts = 1_000_000, nPrefixes = 84_000, nV6 = 100_000, seed = 12): RuleSet {
  const r = prng(seed);
  const hosts = new Set<number>();
  while (hosts.size < nHosts) hosts.add(botAddr(r));
  const seen = new Set<number>(), prefixes = new Uint32Array(nPrefixes), prefixLens = new Uint8Array(nPrefixes);
  for (let i = 0; i < nPrefixes; ) {
    const len = prefixLen(r), net = (botAddr(r) & (0xffffffff << (32 - len))) >>> 0;
    if (seen.has(net * 64 + len)) continue;
    seen.add(net * 64 + len);
    prefixes[i] = net;
    prefixLens[i++] = len;
  }
  const v6 = Array.from({ length: nV6 }, (_, i) => v6Line(r, i % 2 ? 128 : 48 + (r() % 17)));
  return { hosts: Uint32Array.from(hosts), prefixes, prefixLens, v6 };
}

const dotted = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** The set as a rule file, the form `blacklist import` reads. */
export function ruleFileText(s: RuleSet): string {
  const lines = [`# flood bench: ${s.hosts.length} IPv4 /32, ${s.prefixes.length} IPv4 /16-/28, ${s.v6.length} IPv6`];
  for (const a of s.hosts) lines.push(dotted(a));
  s.prefixes.forEach((a, i) => lines.push(`${dotted(a)}/${s.prefixLens[i]}`));
  lines.push(...s.v6);
  return lines.join("\n") + "\n";
}

/** Every listed /32 (already in random order), each once per pass: a botnet that is exactly the blocklist. */
export function hostSources(s: RuleSet): SourceList {
  return { ...sourceList(s.hosts, new Uint8Array(s.hosts.length).fill(32)), inOrder: true };
}

/**
 * The listed IPv4 space: half the frames from the /32s, half from addresses inside the prefixes
 * (each prefix repeated so the two halves weigh the same; random host bits each time), so prefix
 * matches are half the work. Shuffled.
 */
export function mixedSources(s: RuleSet): SourceList {
  const reps = Math.max(1, Math.round(s.hosts.length / s.prefixes.length));
  const n = s.hosts.length + reps * s.prefixes.length;
  const addr = new Uint32Array(n), len = new Uint8Array(n).fill(32);
  addr.set(s.hosts);
  for (let k = 0, at = s.hosts.length; k < reps; k++, at += s.prefixes.length) {
    addr.set(s.prefixes, at);
    len.set(s.prefixLens, at);
  }
  const r = prng(7);
  for (let i = n - 1; i > 0; i--) { // Fisher–Yates: the generator sends the list in order
    const j = r() % (i + 1);
    [addr[i], addr[j]] = [addr[j], addr[i]];
    [len[i], len[j]] = [len[j], len[i]];
  }
  return { ...sourceList(addr, len), inOrder: true };
}
