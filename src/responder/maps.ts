// maps.ts — the responder's pinned maps (bpf/include/responder_data.h): write a configuration
// live, read it back, read the per-reason counters.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BpfMap } from "../ffi/map.ts";
import { CLOCK_MONOTONIC, clockNs } from "../ffi/clock.ts";
import { pinDir } from "../ffi/bpffs.ts";
import { OpError } from "../errors.ts";
import { formatIPv4, formatIPv6, type Prefix } from "../net/addr.ts";
import { F_UNVERIFIED, MAX_PORTS, flagsOf, wireName, type ResponderConfig } from "./config.ts";
import { NAME_SLOTS, countNames, nameTable, qnameText, writeHalf } from "./names.ts";

/** enum xt_resp_stat, in order (checked against the header by test/responder.test.ts). */
export const RESP_STATS = ["answered", "slip_dropped", "not_dns", "not_query", "malformed", "under_rate", "no_match", "transit", "other_mac", "reflect_port", "martian_source",
  "answered_unverified", "passed_verified", "newly_verified"] as const;
export type RespStat = (typeof RESP_STATS)[number];

/** sizeof / offsetof of the shared structs (checked by the test against the C compiler). */
export const RESP_LAYOUT = {
  xt_resp_config: { size: 80, flags: 0, rate: 4, slip: 8, v4_prefix: 12, v6_prefix: 13, nports: 14, ports: 16, hash_mul: 32, mac: 40, qname_min: 46, qname_max: 47,
    verified_ttl_ns: 48, verified_mask6: 56, verified_mask4: 72, name_base: 76 },
  xt_resp_source: { size: 20, family: 0, addr: 4 },
  xt_resp_name: { size: 16, len: 0, hash: 8 },
  xt_resp_prefix4: { size: 8, prefixlen: 0, addr: 4 },
  xt_resp_prefix6: { size: 20, prefixlen: 0, addr: 4 },
  xt_resp_local_list: { size: 108, n4: 0, n6: 4, complete: 8, a4: 12, a6: 44 },
  xt_resp_qname: { size: 256, name: 0 },
} as const;
const LIST4 = 8, LIST6 = 4; // XT_RESP_LIST4, XT_RESP_LIST6

const MAPS = ["resp_config", "resp_name_table", "resp_name_slots", "resp_names", "resp_qnames", "resp_from4", "resp_from6", "resp_stats", "resp_local4", "resp_local6", "resp_local_list", "resp_addrs", "resp_verified"] as const;

export function hasResponder(ifname: string): boolean {
  return existsSync(join(pinDir(ifname), "resp_config"));
}

function withMap<T>(ifname: string, name: (typeof MAPS)[number], fn: (m: BpfMap) => T): T {
  const path = join(pinDir(ifname), name);
  if (!existsSync(path)) throw new OpError(`${ifname} runs no DNS responder (xdptool responder enable ${ifname})`);
  return BpfMap.withPinned(path, fn);
}

const ZERO = Buffer.alloc(4);

/** struct xt_resp_config for `c` (bench/responder-ab.bench.ts writes an older build's with it). */
export function encodeConfig(c: ResponderConfig, mul: bigint, mac: Uint8Array, nameBase: number): Buffer {
  const L = RESP_LAYOUT.xt_resp_config;
  const b = Buffer.alloc(L.size);
  b.writeUInt32LE(flagsOf(c), L.flags);
  b.writeUInt32LE(c.over, L.rate);
  b.writeUInt32LE(c.slip, L.slip);
  b.writeUInt8(c.v4Prefix, L.v4_prefix);
  b.writeUInt8(c.v6Prefix, L.v6_prefix);
  b.writeUInt16LE(c.ports.length, L.nports);
  c.ports.slice(0, MAX_PORTS).forEach((p, i) => b.writeUInt16LE(p, L.ports + 2 * i));
  b.writeBigUInt64LE(mul, L.hash_mul);
  b.set(mac.subarray(0, 6), L.mac);
  // The range of listed suffix lengths lets the program skip lookups that cannot match.
  const lens = c.qnames.map((n) => wireName(n).length);
  if (lens.length) {
    b.writeUInt8(Math.min(...lens), L.qname_min);
    b.writeUInt8(Math.max(...lens), L.qname_max);
  }
  b.writeBigUInt64LE(BigInt(c.verifiedTtl) * 1_000_000_000n, L.verified_ttl_ns);
  b.set(netmask(c.verifiedV6Prefix, 16), L.verified_mask6);
  b.set(netmask(c.verifiedV4Prefix, 4), L.verified_mask4);
  b.writeUInt32LE(nameBase, L.name_base);
  return b;
}

/** The first `len` bits set, in `bytes` bytes (network order). */
function netmask(len: number, bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (0xff00 >> Math.max(0, Math.min(8, len - 8 * i))) & 0xff);
}

/** How many leading bits a netmask has set. */
function maskLength(m: Uint8Array): number {
  let n = 0;
  for (const x of m) for (let bit = 0x80; bit && x & bit; bit >>= 1) n++;
  return n;
}

/** struct xt_resp_source: family byte, 3 zero bytes, the address zero-padded to 16. */
function addressKey(p: Prefix): Buffer {
  const k = Buffer.alloc(RESP_LAYOUT.xt_resp_source.size);
  k.writeUInt8(p.family, 0);
  k.set(p.addr, RESP_LAYOUT.xt_resp_source.addr);
  return k;
}

/** struct xt_resp_qname: the name as text, zero-padded (what `save` reads back). */
function qnameKey(name: string): Buffer {
  const k = Buffer.alloc(RESP_LAYOUT.xt_resp_qname.size);
  k.write(name, "latin1");
  return k;
}

function prefixKey(p: Prefix): Buffer {
  const k = Buffer.alloc(p.family === 4 ? 8 : 20);
  k.writeUInt32LE(p.len, 0);
  k.set(p.addr, 4);
  return k;
}

/** Replace a set of keys: add the new ones first, so at no instant is a wanted key missing; returns
 *  the stale ones, for the caller to delete once the configuration has switched. With staleFirst
 *  (a set the program never reads), the stale ones go first, so the map never holds both sets. */
function replaceKeys(m: BpfMap, keys: Buffer[], opts: { staleFirst?: boolean } = {}): Buffer[] {
  const want = new Set(keys.map((k) => k.toString("hex")));
  const old = [...m.keys()].filter((k) => !want.has(k.toString("hex")));
  if (opts.staleFirst) old.forEach((k) => m.delete(k));
  for (const k of keys) m.update(k, Uint8Array.of(1));
  return opts.staleFirst ? [] : old;
}

/**
 * Write a configuration into the pinned maps of a running responder, live. Lists first (new keys
 * added, stale ones kept), then the config entry that switches to them, then stale keys removed.
 */
export function writeConfig(ifname: string, c: ResponderConfig, mac: Uint8Array): void {
  // The names go into the half of resp_name_table not in use; the config entry switches to it.
  const { mul, slots } = nameTable(c.qnames);
  const base = nameBase(ifname) ? 0 : NAME_SLOTS;
  withMap(ifname, "resp_name_table", (m) => writeHalf(m, base, slots));
  const stale: [(typeof MAPS)[number], Buffer[]][] = [];
  // The names' text: the old ones out first, then the new ones in — the map holds MAX_QNAMES, so a
  // full list only fits once the other is gone, and the program never reads it (save does). A
  // program from before resp_qnames has no such pin: its names are only hashes (save says so).
  if (existsSync(join(pinDir(ifname), "resp_qnames"))) {
    withMap(ifname, "resp_qnames", (m) => replaceKeys(m, c.qnames.map(qnameKey), { staleFirst: true }));
  }
  stale.push(["resp_from4", withMap(ifname, "resp_from4", (m) => replaceKeys(m, c.from.filter((p) => p.family === 4).map(prefixKey)))]);
  stale.push(["resp_from6", withMap(ifname, "resp_from6", (m) => replaceKeys(m, c.from.filter((p) => p.family === 6).map(prefixKey)))]);
  stale.push(["resp_addrs", withMap(ifname, "resp_addrs", (m) => replaceKeys(m, c.addresses.map(addressKey)))]);
  withMap(ifname, "resp_config", (m) => m.update(ZERO, encodeConfig(c, mul, mac, base)));
  for (const [name, keys] of stale) withMap(ifname, name, (m) => keys.forEach((k) => m.delete(k)));
}

/** The half of resp_name_table in use (resp_config's name_base). */
function nameBase(ifname: string): number {
  return withMap(ifname, "resp_config", configNames).base;
}

/** The names' multiplier and the half of the table in use, from resp_config. */
export function configNames(m: BpfMap): { mul: bigint; base: number } {
  const b = m.lookup(ZERO), L = RESP_LAYOUT.xt_resp_config;
  if (!b) return { mul: 1n, base: 0 };
  return { mul: b.readBigUInt64LE(L.hash_mul), base: b.length >= L.size ? b.readUInt32LE(L.name_base) : 0 };
}

/** How many suffixes the program matches: the slots in use, or (an older program's pins, read
 *  before an upgrade) those of its slots or the keys of its hash map. */
function nameCount(ifname: string): number {
  for (const table of ["resp_name_table", "resp_name_slots"] as const) {
    if (existsSync(join(pinDir(ifname), table))) return withMap(ifname, table, (m) => countNames(m, nameBase(ifname)));
  }
  return withMap(ifname, "resp_names", (m) => [...m.keys()].length);
}

/**
 * Make resp_local_list and resp_local4/resp_local6 hold exactly these prefixes (the host's local
 * routes): in the tries new ones first, then the stale ones removed, so an address that stays
 * local is never missing.
 * Returns how many there are.
 */
export function writeLocal(ifname: string, prefixes: Prefix[]): number {
  // The list first: `responder status` reads the tries, so once it shows an address, both have it.
  withMap(ifname, "resp_local_list", (m) => m.update(ZERO, localList(prefixes)));
  const stale = (["resp_local4", "resp_local6"] as const).map((name, i) =>
    [name, withMap(ifname, name, (m) => replaceKeys(m, prefixes.filter((p) => p.family === (i ? 6 : 4)).map(prefixKey)))] as const);
  for (const [name, keys] of stale) withMap(ifname, name, (m) => keys.forEach((k) => m.delete(k)));
  return prefixes.length;
}

/** Loopback: never a destination from the wire (Linux drops it as a martian). */
const loopback = (p: Prefix) => (p.family === 4 ? p.addr[0] === 127 : p.len === 128 && p.addr.every((b, i) => b === (i === 15 ? 1 : 0)));

/** struct xt_resp_local_list: the host addresses, complete per family when they all fit. */
function localList(prefixes: Prefix[]): Buffer {
  const L = RESP_LAYOUT.xt_resp_local_list, b = Buffer.alloc(L.size);
  const wire = prefixes.filter((p) => !loopback(p));
  let complete = 0;
  for (const [fam, max, full, off, countAt, bit] of [[4, LIST4, 32, L.a4, L.n4, 1], [6, LIST6, 128, L.a6, L.n6, 2]] as const) {
    const all = wire.filter((p) => p.family === fam);
    const hosts = all.filter((p) => p.len === full).slice(0, max);
    hosts.forEach((p, i) => b.set(p.addr, off + i * (fam === 4 ? 4 : 16)));
    b.writeUInt32LE(hosts.length, countAt);
    if (hosts.length === all.length) complete |= bit;
  }
  b.writeUInt32LE(complete, L.complete);
  return b;
}

export interface ResponderState {
  ports: number[];
  /** Destinations narrowed by --address (empty: every local address). */
  addresses: string[];
  /** Prefixes the host accepts as local, as the responder knows them now. */
  local: string[];
  mac: string;
  /** How many names the program matches (resp_name_table)… */
  qnames: number;
  /** …and their text (resp_qnames); null when the maps predate resp_qnames and only hashes are left. */
  names: string[] | null;
  from: string[];
  over: number;
  slip: number;
  v4Prefix: number;
  v6Prefix: number;
  unverifiedOnly: boolean;
  verifiedTtl: number;
  verifiedV4Prefix: number;
  verifiedV6Prefix: number;
  /** Sources (aggregates) verified now: in the verified map and not expired (an expired entry
   *  stays in the map until the LRU evicts it or its source is verified again). */
  verified: number;
}

/** Entries of resp_verified whose expiry (CLOCK_MONOTONIC ns, bpf_ktime_get_ns) is still ahead.
 *  In batches: LRU hashes have batch lookups since Linux 5.6, below the responder's 5.18. */
function countVerified(ifname: string): number {
  const now = clockNs(CLOCK_MONOTONIC);
  return withMap(ifname, "resp_verified", (m) => {
    let n = 0;
    m.lookupBatch(4096, (_k, values, count) => {
      for (let i = 0; i < count; i++) if (values.readBigUInt64LE(i * 8) > now) n++;
    });
    return n;
  });
}

/** What the running responder is configured to do, read back from its maps. */
export function readConfig(ifname: string): ResponderState {
  const L = RESP_LAYOUT.xt_resp_config;
  const b = withMap(ifname, "resp_config", (m) => m.lookup(ZERO))!;
  const flags = b.readUInt32LE(L.flags);
  const n = b.readUInt16LE(L.nports);
  const prefixes = (name: "resp_from4" | "resp_from6", fmt: (a: Uint8Array) => string) =>
    withMap(ifname, name, (m) => [...m.keys()].map((k) => `${fmt(k.subarray(4))}/${k.readUInt32LE(0)}`));
  return {
    ports: Array.from({ length: Math.min(n, MAX_PORTS) }, (_, i) => b.readUInt16LE(L.ports + 2 * i)),
    qnames: nameCount(ifname),
    names: existsSync(join(pinDir(ifname), "resp_qnames")) ? withMap(ifname, "resp_qnames", qnameText) : null,
    from: flags & 2 ? [...prefixes("resp_from4", formatIPv4), ...prefixes("resp_from6", formatIPv6)] : [],
    addresses: flags & 8 ? withMap(ifname, "resp_addrs", (m) => [...m.keys()].map((k) => (k[0] === 4 ? formatIPv4(k.subarray(4, 8)) : formatIPv6(k.subarray(4, 20))))) : [],
    local: [...prefixes("resp_local4", formatIPv4), ...prefixes("resp_local6", formatIPv6)],
    mac: [...b.subarray(L.mac, L.mac + 6)].map((x) => x.toString(16).padStart(2, "0")).join(":"),
    over: flags & 4 ? b.readUInt32LE(L.rate) : 0,
    slip: b.readUInt32LE(L.slip),
    v4Prefix: b.readUInt8(L.v4_prefix),
    v6Prefix: b.readUInt8(L.v6_prefix),
    // A program of an older xdptool (a shorter config, no resp_verified) has none of this.
    ...(b.length < L.size ? { unverifiedOnly: false, verifiedTtl: 0, verifiedV4Prefix: 0, verifiedV6Prefix: 0, verified: 0 } : {
      unverifiedOnly: (flags & F_UNVERIFIED) !== 0,
      verifiedTtl: Number(b.readBigUInt64LE(L.verified_ttl_ns) / 1_000_000_000n),
      verifiedV4Prefix: maskLength(b.subarray(L.verified_mask4, L.verified_mask4 + 4)),
      verifiedV6Prefix: maskLength(b.subarray(L.verified_mask6, L.verified_mask6 + 16)),
      verified: flags & F_UNVERIFIED ? countVerified(ifname) : 0,
    }),
  };
}

export function readStats(ifname: string): Record<RespStat, number> {
  return withMap(ifname, "resp_stats", (m) => {
    const out = {} as Record<RespStat, number>;
    const key = Buffer.alloc(4);
    RESP_STATS.forEach((name, i) => {
      key.writeUInt32LE(i);
      const v = m.lookup(key);
      let sum = 0n;
      for (let off = 0; v && off < v.length; off += 8) sum += v.readBigUInt64LE(off);
      out[name] = Number(sum);
    });
    return out;
  });
}
