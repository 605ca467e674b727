// tables.ts — how blacklist rules become map keys and entries (bpf/include/blacklist_types.h),
// and the address tables a rebuild fills before writing them in batches. Used by maps.ts.
import type { BpfMap } from "../ffi/map.ts";
import { HAS_DST, HAS_MAC, HAS_V6_EXACT, HAS_V6_PREFIX, L4_DPORT, L4_PROTO, L4_SPORT, SIZES, TAG_ALLOW, TAG_DST, writeL4Key, writeMacKey, writePrefixKey } from "./layout.ts";
import type { Match, Rule } from "./rules.ts";

export const ZERO = Buffer.alloc(4);
/** Entries per batch syscall. A hash map's batch lookup walks its buckets without letting the
 *  CPU go: one call over a 300k-entry map held a CPU for over 20 ms (bench/manage.bench.ts,
 *  "freeing the replaced set"); a thousand at a time keeps each call well under a millisecond. */
export const CHUNK = 1024;

export function tagOf(r: Rule): number {
  return (r.allow ? TAG_ALLOW : 0) | (r.match.kind !== "none" && r.match.dir === "dst" ? TAG_DST : 0);
}

/** The hash and LPM maps (IPv4 lives in bl_t4: table4.ts). */
export type TableName = "v6" | "x6" | "mac";
export const ADDR_TABLES: TableName[] = ["v6", "x6", "mac"];
export const KEY_SIZE: Record<TableName, number> = { v6: SIZES.v6Key, x6: SIZES.x6Key, mac: SIZES.macKey };
export const TABLE_FLAG: Record<TableName, number> = { v6: HAS_V6_PREFIX, x6: HAS_V6_EXACT, mac: HAS_MAC };

/** Which map a non-IPv4 address goes to: full-length IPv6 to the exact hash, prefixes to the trie. */
export function tableOf(m: Exclude<Match, { kind: "none" }>): TableName {
  if (m.kind === "mac") return "mac";
  if (m.prefix.family === 4) throw new Error("IPv4 prefixes live in bl_t4");
  return m.prefix.len === 128 ? "x6" : "v6";
}

export function flagsOf(table: TableName, tag: number): number {
  return TABLE_FLAG[table] | (table !== "mac" && tag & TAG_DST ? HAS_DST : 0);
}

/** Write the key of an address entry (layout by table) at `off`. */
export function writeKey(table: TableName, b: Buffer, off: number, tag: number, m: Exclude<Match, { kind: "none" }>): void {
  if (m.kind === "mac") writeMacKey(b, off, tag, m.mac);
  else if (table === "x6") {
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
  constructor(readonly name: TableName, cap: number) {
    this.ks = KEY_SIZE[name];
    this.keys = Buffer.alloc(this.ks * Math.max(cap, 1));
    this.rule = new Uint32Array(cap);
    this.set = new Uint32Array(cap);
    this.plen = new Uint32Array(cap);
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
    const index = this.index;
    if (m.kind === "mac") k = tag * 2 ** 48 + m.mac.reduce((a, b) => a * 256 + b, 0);
    else k = String.fromCharCode(tag, m.prefix.len, ...m.prefix.addr);
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
  return table !== "v6" || v.readUInt32LE(8) === plen;
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

