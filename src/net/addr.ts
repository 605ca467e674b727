// addr.ts — addresses as bytes: IPv4, IPv6, MAC, and prefixes. Strict: anything odd is an error.
import { UsageError } from "../errors.ts";

export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9]\d{0,2})$/.test(parts[i]) || Number(parts[i]) > 255) return null;
    out[i] = Number(parts[i]);
  }
  return out;
}

export function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.includes(":::")) return null;
  let tail4: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (!tail4) return null;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]), tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return null;
    const v = parseInt(all[i], 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

export function parseMac(s: string): Uint8Array | null {
  const m = s.match(/^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/);
  if (!m) return null;
  return Uint8Array.from([m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h, 16)));
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`; // hot: a million rules are listed with it
}

/** RFC 5952 text: lowercase, longest zero run (≥2 groups) as "::", IPv4-mapped as ::ffff:a.b.c.d. */
export function formatIPv6(b: Uint8Array, at = 0): string {
  const g = Array.from({ length: 8 }, (_, i) => (b[at + i * 2] << 8) | b[at + i * 2 + 1]);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  // RFC 5952 §5: an IPv4-mapped address ends in the dotted IPv4 address it stands for.
  if (best === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${formatIPv4(b, at + 12)}`;
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

export function formatMac(b: Uint8Array, at = 0): string {
  return Array.from(b.subarray(at, at + 6), (x) => x.toString(16).padStart(2, "0")).join(":");
}

export interface Prefix {
  family: 4 | 6;
  addr: Uint8Array; // network address, host bits cleared
  len: number;
}

/** "198.18.0.0/15", "2001:db8::/32", or a bare address (= /32 or /128). */
export function parsePrefix(s: string): Prefix {
  const [a, l, extra] = s.split("/");
  if (extra !== undefined) throw new UsageError(`invalid prefix "${s}"`);
  const v4 = parseIPv4(a), v6 = v4 ? null : parseIPv6(a);
  if (!v4 && !v6) throw new UsageError(`invalid address "${a}" in "${s}"`);
  const family = v4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  if (l !== undefined && (!/^\d{1,3}$/.test(l) || Number(l) > max)) throw new UsageError(`invalid prefix length "/${l}" in "${s}" (0 to ${max} for IPv${family})`);
  const len = l === undefined ? max : Number(l);
  const addr = (v4 ?? v6)!.slice();
  for (let bit = len; bit < max; bit++) addr[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family, addr, len };
}

export function formatPrefix(p: Prefix): string {
  return `${p.family === 4 ? formatIPv4(p.addr) : formatIPv6(p.addr)}/${p.len}`;
}

/** "A-B" (both IPv4 or both IPv6, A ≤ B) as the fewest prefixes that cover exactly A to B — what
 *  ipset and nftables make of a range. null when `s` is not a range. */
export function parseRange(s: string): Prefix[] | null {
  const dash = s.indexOf("-");
  if (dash < 0) return null;
  const [as, bs] = [s.slice(0, dash), s.slice(dash + 1)];
  const a4 = parseIPv4(as), b4 = parseIPv4(bs);
  const a = a4 ?? parseIPv6(as), b = b4 ?? parseIPv6(bs);
  if (!a || !b || (a4 === null) !== (b4 === null)) throw new UsageError(`invalid address range "${s}" (FIRST-LAST, both IPv4 or both IPv6)`);
  const family: 4 | 6 = a4 ? 4 : 6, bits = family === 4 ? 32 : 128;
  const big = (x: Uint8Array) => x.reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  let lo = big(a);
  const hi = big(b);
  if (lo > hi) throw new UsageError(`invalid address range "${s}": the first address is above the last`);
  const out: Prefix[] = [];
  while (lo <= hi) {
    // The largest block that starts at lo (aligned) and does not pass hi.
    let size = 0;
    while (size < bits && (lo & ((1n << BigInt(size + 1)) - 1n)) === 0n && lo + (1n << BigInt(size + 1)) - 1n <= hi) size++;
    const addr = new Uint8Array(bits / 8);
    for (let i = addr.length - 1, v = lo; i >= 0; i--, v >>= 8n) addr[i] = Number(v & 0xffn);
    out.push({ family, addr, len: bits - size });
    lo += 1n << BigInt(size);
  }
  return out;
}
