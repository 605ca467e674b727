// tables.ts — how blacklist rules become map keys and entries (bpf/include/blacklist_types.h),
// and the address tables a rebuild fills before writing them in batches. Used by maps.ts.
import type { BpfMap } from "../ffi/map.ts";
import { HAS_DST, HAS_MAC, HAS_V4_EXACT, HAS_V4_PREFIX, HAS_V6_EXACT, HAS_V6_PREFIX, L4_DPORT, L4_PROTO, L4_SPORT, SIZES, TAG_ALLOW, TAG_DST, writeL4Key, writeMacKey, writePrefixKey } from "./layout.ts";
import type { Match, Rule } from "./rules.ts";

export const ZERO = Buffer.alloc(4);
export const CHUNK = 131072;

export function tagOf(r: Rule): number {
  return (r.allow ? TAG_ALLOW : 0) | (r.match.kind !== "none" && r.match.dir === "dst" ? TAG_DST : 0);
}

export type TableName = "v4" | "v6" | "x4" | "x6" | "mac";
export const ADDR_TABLES: TableName[] = ["v4", "v6", "x4", "x6", "mac"];
export const KEY_SIZE: Record<TableName, number> = { v4: SIZES.v4Key, v6: SIZES.v6Key, x4: SIZES.x4Key, x6: SIZES.x6Key, mac: SIZES.macKey };
export const TABLE_FLAG: Record<TableName, number> = { v4: HAS_V4_PREFIX, v6: HAS_V6_PREFIX, x4: HAS_V4_EXACT, x6: HAS_V6_EXACT, mac: HAS_MAC };

/** Which table an address goes to: full-length addresses to the exact hashes, prefixes to the tries. */
export function tableOf(m: Exclude<Match, { kind: "none" }>): TableName {
  if (m.kind === "mac") return "mac";
  const full = m.prefix.len === (m.prefix.family === 4 ? 32 : 128);
  return m.prefix.family === 4 ? (full ? "x4" : "v4") : full ? "x6" : "v6";
}

export function flagsOf(table: TableName, tag: number): number {
  return TABLE_FLAG[table] | (table !== "mac" && tag & TAG_DST ? HAS_DST : 0);
}

/** Write the key of an address entry (layout by table) at `off`. */
export function writeKey(table: TableName, b: Buffer, off: number, tag: number, m: Exclude<Match, { kind: "none" }>): void {
  if (m.kind === "mac") writeMacKey(b, off, tag, m.mac);
  else if (table === "x4" || table === "x6") {
    b[off] = tag;
    b.set(m.prefix.addr, off + 1);
  } else writePrefixKey(b, off, tag, m.prefix);
}

/** Which map and key hold the address part of a rule. */
export function entryKey(m: Match, tag: number): { table: TableName; key: Buffer; plen: number } | null {
  if (m.kind === "none") return null;
  const table = tableOf(m);
  const key = Buffer.alloc(KEY_SIZE[table]);
  writeKey(table, key, 0, tag, m);
  return { table, key, plen: m.kind === "mac" ? 0 : 8 + m.prefix.len };
}

export function l4Key(r: Rule, set: number): Buffer | null {
  const k = Buffer.alloc(SIZES.l4Key);
  if (r.l4.kind === "none") return null;
  if (r.l4.kind === "proto") writeL4Key(k, 0, set, r.l4.proto, L4_PROTO, 0);
  else writeL4Key(k, 0, set, r.l4.proto, r.l4.dir === "src" ? L4_SPORT : L4_DPORT, r.l4.port);
  return k;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** One address table being built: packed keys, and per entry its plain rule, set and prefixlen. */
export class Table {
  readonly ks: number;
  keys: Buffer;
  rule: Uint32Array;
  set: Uint32Array;
  plen: Uint32Array;
  n = 0;
  private index = new Map<number | string, number>();
  /** IPv4: one map per (tag, length) keyed by the address as int32 (cheap keys for a million). */
  private index4 = new Map<number, Map<number, number>>();
  constructor(readonly name: TableName, cap: number) {
    this.ks = KEY_SIZE[name];
    this.keys = Buffer.alloc(this.ks * Math.max(cap, 1));
    this.rule = new Uint32Array(cap);
    this.set = new Uint32Array(cap);
    this.plen = new Uint32Array(cap);
  }
  /** Whether an IPv4 entry exists already (from the general path). */
  has4(tag: number, len: number, addr: number): boolean {
    return this.index4.get(tag * 64 + len)?.has(addr | 0) ?? false;
  }
  /** A new IPv4 entry known to be unique (not indexed: nothing looks it up again). */
  append4(tag: number, len: number, addr: number): number {
    const i = this.n++, o = i * this.ks;
    if (this.name === "x4") {
      this.keys[o] = tag;
      this.keys.writeUInt32BE(addr, o + 1);
    } else {
      this.keys.writeUInt32LE(8 + len, o);
      this.keys[o + 4] = tag;
      this.keys.writeUInt32BE(addr, o + 5);
    }
    this.plen[i] = 8 + len;
    return i;
  }
  /** Index of the IPv6 entry for addr[off, off+16)/len (made on first use). */
  entry6(tag: number, addr: Uint8Array, off: number, len: number): number {
    // One native latin1 decode of the 16 bytes: 3× faster than 16 concatenations at 100k rules.
    const k = String.fromCharCode(tag, len) + Buffer.from(addr.buffer, addr.byteOffset + off, 16).latin1Slice(0, 16);
    let i = this.index.get(k);
    if (i !== undefined) return i;
    i = this.n++;
    this.index.set(k, i);
    const o = i * this.ks;
    if (this.name === "x6") {
      this.keys[o] = tag;
      this.keys.set(addr.subarray(off, off + 16), o + 1);
    } else {
      this.keys.writeUInt32LE(8 + len, o);
      this.keys[o + 4] = tag;
      this.keys.set(addr.subarray(off, off + 16), o + 5);
    }
    this.plen[i] = 8 + len;
    return i;
  }
  /** Index of the entry for this address (made on first use). */
  entry(m: Exclude<Match, { kind: "none" }>, tag: number): number {
    let k: number | string;
    let index = this.index;
    if (m.kind === "mac") k = tag * 2 ** 48 + m.mac.reduce((a, b) => a * 256 + b, 0);
    else if (m.prefix.family === 4) {
      const a = m.prefix.addr;
      k = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
      const sub = tag * 64 + m.prefix.len;
      let x = this.index4.get(sub);
      if (!x) this.index4.set(sub, (x = new Map()));
      index = x;
    } else k = String.fromCharCode(tag, m.prefix.len, ...m.prefix.addr);
    let i = index.get(k);
    if (i !== undefined) return i;
    i = this.n++;
    index.set(k, i);
    writeKey(this.name, this.keys, i * this.ks, tag, m);
    if (m.kind !== "mac") this.plen[i] = 8 + m.prefix.len;
    return i;
  }
}

/** A stored entry is this exact prefix (an LPM lookup may have returned a shorter one). */
export function exactEntry(v: Buffer, plen: number, table: string): boolean {
  return (table !== "v4" && table !== "v6") || v.readUInt32LE(8) === plen;
}

/** Called after every batch write with the entries written (the import command's progress bar). */
export const batchProgress: { onWrite?: (entries: number) => void } = {};

export function batch(m: BpfMap, keys: Buffer, vals: Buffer, ks: number, vs: number): void {
  const n = keys.length / ks;
  // 64k entries a call: a few hundred µs of kernel time each, fine-grained enough for progress.
  for (let i = 0; i < n; i += CHUNK / 2) {
    const j = Math.min(n, i + CHUNK / 2);
    m.updateBatch(keys.subarray(i * ks, j * ks), vals.subarray(i * vs, j * vs), j - i);
    batchProgress.onWrite?.(j - i);
  }
}

