// maps.ts — the blacklist's rules in its BPF maps: add, delete, read back, rebuild and switch.
//
// Layout and model: bpf/include/blacklist_types.h. IPv4 address rules are slots of bl_t4
// (table4.ts); every other rule has a record in bl_recs and an entry in a hash / LPM map. The
// three big arrays are mmapped: writing and reading them is memory access, no syscalls. Every
// change runs under the caller's lock (see store.ts); nothing here is safe against a concurrent
// writer on its own.
import { BpfMap, BPF_ANY, BPF_NOEXIST } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import type { BpfObject } from "../ffi/object.ts";
import { mmapFd, munmap, PROT_READ, PROT_WRITE, PAGE_SIZE, type Mapping } from "../ffi/mmap.ts";
import { formatIPv4, formatIPv6, formatMac } from "../net/addr.ts";
import { HAS_ALLOW, HAS_DST, HAS_GLOBAL_DENY, HAS_V4, HAS_V4_FULL, T4_FLAT, L4_ANY, L4_ANYPORT, L4_DPORT, L4_PROTO, L4_SPORT, LAST_SHIFT, MAP_NAMES, RULE_ACTIVE, RULE_ALLOW, RULE_SLOT, SET_ALLOW, SET_DENY, SIZES, SLOT_RULE, SLOT_TTL, TAG_ALLOW, TAG_DST, decodeCfg, encodeCfg, writeEntry, writeL4Key, writeRec, type Cfg } from "./layout.ts";
import { ruleKey, type Match, type Rule } from "./rules.ts";
import type { Bare4, Bare6 } from "./parse.ts";
import { ZERO, CHUNK, tagOf, type TableName, ADDR_TABLES, KEY_SIZE, tableOf, flagsOf, entryKey, l4Key, u32, Table, exactEntry, batch } from "./tables.ts";
import { Table4, TableFull, maskBE, wireLE, type SlotCounters } from "./table4.ts";
export { batchProgress } from "./tables.ts";

export type MapName = (typeof MAP_NAMES)[number];

/** A rule as stored: its id and absolute expiry (CLOCK_MONOTONIC_COARSE ns, 0n = never). */
export interface StoredRule extends Rule {
  id: number;
  expires: bigint;
}

export type Hits = SlotCounters;

/** IPv4 slots per generation for a capacity: load at most 0.6, so probe chains stay short. */
export function t4SizeFor(maxRules: number): number {
  let n = 1024;
  while (n * 0.6 < maxRules) n *= 2;
  return n;
}

/**
 * Entries each map holds for `maxRules` rules per generation. A kernel hash takes 16 bytes a
 * bucket for its max_entries up front (rounded up to a power of two) even when empty, so the maps
 * most lists barely use are capped well below the total: a full IPv6 /128 list takes a quarter of
 * the rules, combined (address + port) rules and TTLs on IPv4 rules an eighth.
 */
export function mapSizes(maxRules: number): Record<string, number> {
  const part = (d: number) => Math.max(65536, Math.ceil(maxRules / d));
  return {
    bl_recs: 2 * (maxRules + 1), bl_x6_0: part(4), bl_x6_1: part(4), bl_v6_0: part(4), bl_v6_1: part(4),
    bl_l4_0: part(8), bl_l4_1: part(8), bl_exp4: part(8), bl_mac_0: 65536, bl_mac_1: 65536,
  };
}

/** Size an opened (not yet loaded) blacklist object for `maxRules` rules per generation: the
 *  maps, and the template every IPv4 table put in bl_t4 must match. */
export function sizeMaps(obj: BpfObject, maxRules: number): void {
  const sizes = mapSizes(maxRules);
  for (const m of obj.maps()) {
    if (m.name in sizes) obj.setMaxEntries(m, sizes[m.name]);
    if (m.name === "bl_t4") obj.setInnerMap(m, newTable(t4SizeFor(maxRules)).fd); // held until exit
  }
}

/** An empty IPv4 table of `size` slots (struct bl_slot4), mmapable. */
function newTable(size: number): BpfMap {
  return BpfMap.create("array", "bl_t4_table", 4, SIZES.slot4, size, BPF_F_MMAPABLE);
}

const BPF_F_MMAPABLE = 1 << 10;
/** Marks a slot's provisional id during a build (see replace). */
const BULK = 0x80000000;

/** The ipv4 table sits beside the others in scans; "t4" names it in a RuleView. */
export type WhereName = TableName | "t4";

function mapAll(m: BpfMap, name: string): Mapping {
  const len = Math.ceil((m.info.maxEntries * Math.ceil(m.info.valueSize / 8) * 8) / PAGE_SIZE) * PAGE_SIZE;
  return mmapFd(name, m.fd, len, PROT_READ | PROT_WRITE);
}

export class BlacklistMaps {
  /** Each generation's IPv4 table (an inner map of bl_t4) and its mapping, when it has one. */
  private readonly tables: ({ map: BpfMap; mapping: Mapping } | null)[] = [null, null];
  private readonly mlen: Mapping;
  private readonly mrec: Mapping;
  readonly t4: Table4;
  /** bl_recs as a Buffer over the mapping. */
  readonly recs: Buffer;

  constructor(readonly maps: Record<MapName, BpfMap>) {
    this.mlen = mapAll(maps.bl_len4, "bl_len4");
    this.mrec = mapAll(maps.bl_recs, "bl_recs");
    this.t4 = new Table4(this.mlen.buf, t4SizeFor(maps.bl_recs.info.maxEntries / 2 - 1));
    this.recs = this.mrec.buf;
    for (const gen of [0, 1]) {
      const id = maps.bl_t4.lookup(u32(gen));
      if (id) this.useTable(gen, BpfMap.byId(id.readUInt32LE(0)));
      this.t4.setFlat(gen, (this.cfg.flags[gen] & T4_FLAT) !== 0);
    }
  }

  static open(fdOf: (name: MapName) => number): BlacklistMaps {
    const maps = {} as Record<MapName, BpfMap>;
    for (const n of MAP_NAMES) maps[n] = new BpfMap(fdOf(n));
    return new BlacklistMaps(maps);
  }

  private useTable(gen: number, map: BpfMap): void {
    const mapping = mapAll(map, "the IPv4 table");
    this.tables[gen] = { map, mapping };
    this.t4.setGen(gen, mapping.buf);
  }

  /** Forget a generation's table here (munmap, close); the kernel frees it once bl_t4 lets go. */
  private releaseTable(gen: number): void {
    const t = this.tables[gen];
    if (!t) return;
    munmap(t.mapping);
    t.map.close();
    this.tables[gen] = null;
    this.t4.setGen(gen, null);
  }

  /** A new empty table for a generation, mapped here; the program sees it once published. */
  private freshTable(gen: number): void {
    this.releaseTable(gen);
    this.useTable(gen, newTable(this.t4.size));
  }

  private publishTable(gen: number): void {
    this.maps.bl_t4.update(u32(gen), u32(this.tables[gen]!.map.fd));
  }

  close(): void {
    this.releaseTable(0);
    this.releaseTable(1);
    munmap(this.mlen);
    munmap(this.mrec);
    for (const m of Object.values(this.maps)) m.close();
  }

  private table(kind: TableName | "l4", gen: number): BpfMap {
    return this.maps[`bl_${kind}_${gen}` as MapName];
  }

  get cfg(): Cfg {
    return decodeCfg(this.maps.bl_cfg.lookup(ZERO)!);
  }

  writeCfg(c: Cfg): void {
    this.maps.bl_cfg.update(ZERO, encodeCfg(c));
  }

  /** Set up id ranges on a fresh map set; a no-op once done (pins are reused across attaches). */
  init(): void {
    const c = this.cfg;
    if (c.half) return;
    const recs = this.maps.bl_recs.info.maxEntries, half = Math.floor(recs / 2);
    this.writeCfg({ gen: 0, nextSet: 2, half, flags: [0, 0], nextId: [1, half], t4Size: this.t4.size, slotBase: recs, t4Used: [0, 0] });
  }

  base(gen: number, c = this.cfg): number {
    return gen === 0 ? 1 : c.half;
  }

  /** Most rules one generation holds. */
  capacity(c = this.cfg): number {
    return c.half - 1;
  }

  /** The live IPv4 table: its slots, those in use, and whether it was built flat (no /24 windows). */
  ipv4Table(c = this.cfg): { slots: number; used: number; layout: "windows" | "flat" } {
    return { slots: this.t4.size, used: c.t4Used[c.gen], layout: this.t4.isFlat(c.gen) ? "flat" : "windows" };
  }

  /** Kernel memory the blacklist's maps take (the kernel's own accounting, fdinfo memlock),
   *  the IPv4 tables in bl_t4 included. */
  memoryBytes(): number {
    const own = Object.values(this.maps).reduce((a, m) => a + m.memlock(), 0);
    return this.tables.reduce((a, t) => a + (t ? t.map.memlock() : 0), own);
  }

  /** The slot of an IPv4 rule (its record says so), or -1 for a rule whose record is its state. */
  slotOfId(id: number): number {
    const o = id * SIZES.rec;
    return this.recs.readUInt32LE(o + 8) & RULE_SLOT ? this.recs.readUInt32LE(o + 12) : -1;
  }

  /** What the program reports for a rule (its slot handle for an IPv4 rule). */
  handleOf(id: number, c = this.cfg): number {
    const slot = this.slotOfId(id);
    return slot >= 0 ? c.slotBase + slot : id;
  }

  /** The rule id behind what the program reports (a slot handle for IPv4 rules), or 0. */
  idOfHandle(handle: number, c = this.cfg): number {
    if (handle < c.slotBase) return handle;
    const slot = handle - c.slotBase, gen = slot >= this.t4.size ? 1 : 0, base = this.base(gen, c);
    for (let id = base; id < c.nextId[gen]; id++) if (this.slotOfId(id) === slot && this.recs.readUInt32LE(id * SIZES.rec + 8) & RULE_ACTIVE) return id;
    return 0;
  }

  /** The slot of an IPv4 rule's prefix in `gen`, or -1. */
  private slotOf(m: Match, tag: number, gen: number): number {
    if (m.kind !== "prefix" || m.prefix.family !== 4) return -1;
    const p = m.prefix;
    return this.t4.find(gen, wireLE(maskBE(beOf(p.addr), p.len)), p.len, tag);
  }

  /** Where a rule lives in the live generation: its id, or null. */
  locate(r: Rule, gen = this.cfg.gen): number | null {
    const c = this.cfg;
    const tag = tagOf(r);
    let set = r.allow ? SET_ALLOW : SET_DENY;
    if (isV4(r.match)) {
      const s = this.slotOf(r.match, tag, gen);
      if (s < 0) return null;
      if (r.l4.kind === "none") return this.t4.flags(s) & SLOT_RULE ? this.idOfHandle(c.slotBase + s, c) || null : null;
      set = this.t4.set(s);
      if (!set) return null;
    } else {
      const ek = entryKey(r.match, tag);
      if (ek) {
        const v = this.table(ek.table, gen).lookup(ek.key);
        if (!v || !exactEntry(v, ek.plen, ek.table)) return null;
        if (r.l4.kind === "none") return v.readUInt32LE(0) || null;
        set = v.readUInt32LE(4);
        if (!set) return null;
      }
    }
    const v = this.table("l4", gen).lookup(l4Key(r, set)!);
    return v ? v.readUInt32LE(0) || null : null;
  }

  /** A rule's state from its record (for an IPv4 rule a mirror of what its slot tells the program). */
  ruleState(id: number): { active: boolean; allow: boolean; expires: bigint } {
    const o = id * SIZES.rec, f = this.recs.readUInt32LE(o + 8);
    return { active: (f & RULE_ACTIVE) !== 0, allow: (f & RULE_ALLOW) !== 0, expires: this.recs.readBigUInt64LE(o) };
  }

  hits(id: number): Hits {
    const slot = this.slotOfId(id);
    if (slot >= 0) return this.t4.counters(slot);
    const o = id * SIZES.rec, r = this.recs, last = r.readUInt32LE(o + 12);
    return { packets: r.readUInt32LE(o + 16) + r.readUInt32LE(o + 20) * 2 ** 32, bytes: r.readUInt32LE(o + 24) + r.readUInt32LE(o + 28) * 2 ** 32, last: last ? BigInt(last) << BigInt(LAST_SHIFT) : 0n };
  }

  /** An IPv4 rule takes its slot: record, then TTL in bl_exp4, then the slot's flags (live). */
  private slotRule(id: number, slot: number, expires: bigint, allow: boolean, c: Cfg, carry?: Hits): void {
    this.setRec(id, expires, allow, undefined, slot);
    const handle = c.slotBase + slot;
    if (expires) this.maps.bl_exp4.update(u32(handle), u64(expires));
    this.t4.takeRule(slot, expires !== 0n, carry);
    if (!expires) this.maps.bl_exp4.delete(u32(handle));
  }

  /** A record with zeroed counters (or carried ones); for an IPv4 rule, which slot is its. */
  private setRec(id: number, expires: bigint, allow: boolean, carry?: Hits, slot = -1): void {
    const o = id * SIZES.rec;
    writeRec(this.recs, o, expires, 0);
    if (carry) writeCounters(this.recs, o + 12, carry);
    if (slot >= 0) this.recs.writeUInt32LE(slot, o + 12);
    // The flags last: the record is whole before the program can count it as live.
    this.recs.writeUInt32LE(RULE_ACTIVE | (allow ? RULE_ALLOW : 0) | (slot >= 0 ? RULE_SLOT : 0), o + 8);
  }

  private newId(gen: number, c: Cfg): number {
    const id = c.nextId[gen];
    if (id >= this.base(gen, c) + this.capacity(c)) throw new OpError(`blacklist is full (${this.capacity(c)} rules); attach with a larger --max-rules`);
    c.nextId[gen] = id + 1;
    return id;
  }

  /** Add one rule to the live generation. Returns the id and whether it was already there. */
  add(r: Rule, expires: bigint, now: bigint): { id: number; existed: boolean } {
    const c = this.cfg;
    const gen = c.gen;
    const old = this.locate(r, gen);
    if (old) {
      const s = this.ruleState(old);
      if (s.active && (s.expires === 0n || s.expires > now)) {
        // Same rule again: it takes the new TTL (or loses its TTL), nothing else changes.
        const slot = this.slotOfId(old);
        if (slot >= 0) {
          if (expires) this.maps.bl_exp4.update(u32(c.slotBase + slot), u64(expires));
          this.t4.setFlags(slot, (this.t4.flags(slot) & ~SLOT_TTL) | (expires ? SLOT_TTL : 0));
        }
        this.recs.writeBigUInt64LE(expires, old * SIZES.rec);
        return { id: old, existed: true };
      }
      // Expired, not yet collected: its record lets go (its entry is the new rule's now), so one
      // id, not two, answers for the prefix from here on.
      this.recs.writeUInt32LE(0, old * SIZES.rec + 8);
    }
    const tag = tagOf(r);
    if (r.allow) c.flags[gen] |= HAS_ALLOW;
    if (r.match.kind === "none" && !r.allow) c.flags[gen] |= HAS_GLOBAL_DENY;
    let set = r.allow ? SET_ALLOW : SET_DENY;
    let slot = -1;
    if (isV4(r.match)) {
      const p = r.match.prefix;
      if (!this.t4.hasGen(gen)) {
        this.freshTable(gen); // the first IPv4 rule of this generation
        this.publishTable(gen);
      }
      const placed = this.t4.place(gen, wireLE(maskBE(beOf(p.addr), p.len)), p.len, tag);
      if (placed.slot < 0) throw new OpError(`the IPv4 table has no room near ${formatPrefix4(p.addr, p.len)}: replace the rule set (import --replace) or attach with a larger --max-rules`);
      slot = placed.slot;
      if (placed.fresh) c.t4Used[gen]++;
      c.flags[gen] |= HAS_V4 | (p.len === 32 ? HAS_V4_FULL : 0) | (tag & TAG_DST ? HAS_DST : 0);
      if (r.l4.kind !== "none") {
        set = this.t4.set(slot);
        if (!set) this.t4.setSet(slot, (set = c.nextSet++));
      }
    }
    const ek = slot < 0 ? entryKey(r.match, tag) : null;
    let entry: Buffer | null = null;
    if (ek) {
      c.flags[gen] |= flagsOf(ek.table, tag);
      const v = this.table(ek.table, gen).lookup(ek.key);
      entry = Buffer.alloc(SIZES.entry);
      if (v && exactEntry(v, ek.plen, ek.table)) entry.set(v.subarray(0, SIZES.entry));
      else writeEntry(entry, 0, 0, 0, ek.plen);
      if (r.l4.kind !== "none") {
        set = entry.readUInt32LE(4);
        if (!set) entry.writeUInt32LE((set = c.nextSet++), 4);
      }
    }
    const id = this.newId(gen, c);
    if (slot >= 0 && r.l4.kind === "none") {
      this.writeCfg(c);
      this.slotRule(id, slot, expires, r.allow, c);
      return { id, existed: false };
    }
    // The rule first, the entry that points at it last: the fast path never sees a half-made rule.
    if (ek && r.l4.kind === "none") entry!.writeUInt32LE(id, 0);
    this.writeCfg(c);
    this.setRec(id, expires, r.allow);
    const lk = l4Key(r, set);
    if (lk) {
      this.table("l4", gen).update(lk, u32(id), old ? BPF_ANY : BPF_NOEXIST);
      if (!r.allow) this.summarize(gen, set, r.l4);
    }
    if (ek && entry) this.table(ek.table, gen).update(ek.key, entry);
    return { id, existed: false };
  }

  /** Remove one rule from the live generation; false when it is not there. */
  delete(r: Rule): boolean {
    const c = this.cfg, gen = c.gen;
    const id = this.locate(r, gen);
    if (!id) return false;
    const slot = this.slotOfId(id);
    this.recs.writeUInt32LE(0, id * SIZES.rec + 8); // stops matching at once (a record rule)
    if (slot >= 0) {
      this.t4.setFlags(slot, this.t4.flags(slot) & ~(SLOT_RULE | SLOT_TTL)); // stops matching at once
      this.maps.bl_exp4.delete(u32(c.slotBase + slot));
      return true; // the key stays: a deleted slot, reused if the prefix comes back
    }
    if (r.l4.kind !== "none") {
      let set = r.allow ? SET_ALLOW : SET_DENY;
      if (isV4(r.match)) set = this.t4.set(this.slotOf(r.match, tagOf(r), gen));
      else {
        const ek = entryKey(r.match, tagOf(r));
        if (ek) set = this.table(ek.table, gen).lookup(ek.key)!.readUInt32LE(4);
      }
      this.table("l4", gen).delete(l4Key(r, set)!);
      if (!r.allow) this.summarize(gen, set, r.l4);
      return true;
    }
    const ek = entryKey(r.match, tagOf(r))!;
    const t = this.table(ek.table, gen);
    const entry = Buffer.from(t.lookup(ek.key)!.subarray(0, SIZES.entry));
    entry.writeUInt32LE(0, 0);
    if (entry.readUInt32LE(4) === 0) t.delete(ek.key);
    else t.update(ek.key, entry);
    return true;
  }

  /**
   * Keep a deny set's summaries right after one of its combined rules came or went (see
   * BL_L4_ANYPORT in blacklist_types.h): each names the set's lowest rule id of its kind, or is
   * gone when the kind has none left. A scan of bl_l4, which holds the combined rules only.
   */
  private summarize(gen: number, set: number, l4: Rule["l4"]): void {
    const proto = l4.kind === "none" ? 0 : l4.proto;
    let anyport = 0, any = 0;
    this.table("l4", gen).lookupBatch(CHUNK, (keys, values, n) => {
      for (let i = 0; i < n; i++) {
        const k = i * SIZES.l4Key, dir = keys[k + 5], id = values.readUInt32LE(i * 4);
        if (keys.readUInt32LE(k) !== set || dir > L4_DPORT) continue;
        if (!any || id < any) any = id;
        if (dir !== L4_PROTO && keys[k + 4] === proto && (!anyport || id < anyport)) anyport = id;
      }
    });
    const put = (key: Buffer, id: number) => (id ? this.table("l4", gen).update(key, u32(id)) : this.table("l4", gen).delete(key));
    const key = (p: number, dir: number) => {
      const b = Buffer.alloc(SIZES.l4Key);
      writeL4Key(b, 0, set, p, dir, 0);
      return b;
    };
    put(key(0, L4_ANY), any);
    if (l4.kind === "port") put(key(proto, L4_ANYPORT), anyport);
  }

  /**
   * Visit every live rule of a generation in id order (the order rules were added), straight
   * from the maps: `v` is one object reused for every rule (copy what you keep), so a million
   * rules cost no million objects. IPv4 rules are decoded from their slots as their records come
   * up; the others (usually few) are gathered from their hash / LPM / l4 maps first.
   */
  scan(visit: (v: RuleView) => void, gen = this.cfg.gen): void {
    const c = this.cfg;
    const base = this.base(gen, c), end = c.nextId[gen];
    const recs = this.recs, rw = new Uint32Array(recs.buffer, recs.byteOffset, recs.length >>> 2);
    const live = (id: number) => id >= base && id < end && (rw[id * 8 + 2] & RULE_ACTIVE) !== 0;
    const others = new Map<number, Omit<RuleView, "id" | "expires">>();
    type Owner = { table: WhereName | null; keys: Buffer; keyOff: number; len: number; dst: boolean; allow: boolean };
    const owners = new Map<number, Owner>();
    const own = (set: number, o: Owner) => owners.set(set, o);
    own(SET_DENY, { table: null, keys: recs, keyOff: 0, len: 0, dst: false, allow: false });
    own(SET_ALLOW, { table: null, keys: recs, keyOff: 0, len: 0, dst: false, allow: true });
    for (const table of ADDR_TABLES) {
      const ks = KEY_SIZE[table], lpm = table === "v6";
      this.table(table, gen).lookupBatch(CHUNK, (keys, values, n) => {
        for (let i = 0; i < n; i++) {
          const rule = values.readUInt32LE(i * SIZES.entry), set = values.readUInt32LE(i * SIZES.entry + 4);
          const tag = keys[i * ks + (lpm ? 4 : 0)];
          const len = lpm ? keys.readUInt32LE(i * ks) - 8 : 128;
          if (!set && (!rule || !live(rule))) continue;
          const o: Owner = { table, keys: Buffer.from(keys.subarray(i * ks, (i + 1) * ks)), keyOff: 0, len, dst: (tag & TAG_DST) !== 0, allow: (tag & TAG_ALLOW) !== 0 };
          if (set) own(set, o);
          if (rule && live(rule)) others.set(rule, { ...o, l4: NO_L4 });
        }
      });
    }
    const l4: { id: number; set: number; l4: Rule["l4"] }[] = [];
    this.table("l4", gen).lookupBatch(CHUNK, (keys, values, n) => {
      for (let i = 0; i < n; i++) {
        const k = i * 8, id = values.readUInt32LE(i * 4);
        const proto = keys[k + 4], dir = keys[k + 5], port = keys.readUInt16LE(k + 6);
        if (dir > L4_DPORT || !live(id)) continue; // summaries are no rules
        l4.push({ id, set: keys.readUInt32LE(k), l4: dir === L4_PROTO ? { kind: "proto", proto } : { kind: "port", proto: proto as 6 | 17, dir: dir === L4_SPORT ? "src" : "dst", port } });
      }
    });
    const t4 = this.t4;
    if (l4.some((x) => !owners.has(x.set))) {
      t4.forEachUsed(gen, (s) => {
        const set = t4.set(s), tag = t4.tag(s);
        if (!set) return;
        const { buf, off } = t4.addrBytes(s);
        own(set, { table: "t4", keys: buf, keyOff: off, len: t4.len(s), dst: (tag & TAG_DST) !== 0, allow: (tag & TAG_ALLOW) !== 0 });
      });
    }
    for (const x of l4) {
      const o = owners.get(x.set);
      if (o) others.set(x.id, { ...o, l4: x.l4 });
    }
    const v: RuleView = { id: 0, allow: false, table: null, keys: recs, keyOff: 0, dst: false, l4: NO_L4, len: 0, expires: 0n };
    const size = t4.size, has = (g: number) => t4.hasGen(g);
    const tw0 = has(0) ? t4.words(0) : null, tw1 = has(1) ? t4.words(1) : null, tb0 = has(0) ? t4.bytes(0) : null, tb1 = has(1) ? t4.bytes(1) : null;
    for (let id = base; id < end; id++) {
      const f = rw[id * 8 + 2];
      if (!(f & RULE_ACTIVE)) continue;
      v.id = id;
      v.expires = rw[id * 8] || rw[id * 8 + 1] ? recs.readBigUInt64LE(id * SIZES.rec) : 0n;
      if (f & RULE_SLOT) {
        // Straight from the table's words: no object per rule (a million would be ~300 MB of garbage).
        const s = rw[id * 8 + 3], g = s >= size ? 1 : 0, o = (s - g * size) * 8, w1 = (g ? tw1 : tw0)![o + 1], tag = (w1 >>> 8) & 0x7f;
        v.allow = (tag & TAG_ALLOW) !== 0;
        v.dst = (tag & TAG_DST) !== 0;
        v.table = "t4";
        v.keys = g ? tb1! : tb0!;
        v.keyOff = o * 4;
        v.len = w1 & 0xff;
        v.l4 = NO_L4;
      } else {
        const o = others.get(id);
        if (!o) continue; // a record no entry points at (yet): not a rule
        Object.assign(v, o);
      }
      visit(v);
    }
  }

  /** Every live rule of a generation as objects (or only those with the given ids), in id order. */
  read(gen = this.cfg.gen, ids?: Set<number>): StoredRule[] {
    const out: StoredRule[] = [];
    this.scan((v) => {
      if (ids && !ids.has(v.id)) return;
      out.push({ allow: v.allow, match: matchOf(v), l4: v.l4, id: v.id, expires: v.expires });
    }, gen);
    return out;
  }

  /**
   * Write a whole rule set into the idle generation, then make it live with one write of
   * bl_cfg.gen, then empty the old generation. Packets see the old set or the new one, never a
   * mix. Rules that own an entry already taken are duplicates: skipped, counted. `hits`, when
   * given, carries a rule's counters over (merge import). With keepOld the old generation is
   * left for clear() by a background `blacklist gc`.
   */
  replace(rules: ReplaceInput[], bare4?: Bare4, bare6?: Bare6, keepOld = false): ReplaceStats {
    try {
      return this.build(rules, bare4, bare6, keepOld, false);
    } catch (e) {
      // Some /24 holds more /24-/31 prefixes than its window takes: build again without windows
      // (the generation being built is not live: nothing has seen it).
      if (!(e instanceof TableFull)) throw e;
      return this.build(rules, bare4, bare6, keepOld, true);
    }
  }

  private build(rules: ReplaceInput[], bare4: Bare4 | undefined, bare6: Bare6 | undefined, keepOld: boolean, flat: boolean): ReplaceStats {
    const t0 = performance.now();
    const c = this.cfg;
    const gen = c.gen ^ 1;
    this.clear(gen); // normally empty already; a crash mid-replace (or a windowed try) may have left something
    const cc = this.cfg;
    this.freshTable(gen); // published after the build, switched to after that
    this.t4.setFlat(gen, flat);
    const base = this.base(gen, cc), cap = this.capacity(cc);
    const n = rules.length;
    const counts: Record<TableName, number> = { v6: 0, x6: 0, mac: 0 };
    for (const { rule: r } of rules) if (r.match.kind !== "none" && !isV4(r.match)) counts[tableOf(r.match)]++;
    if (bare6) for (let i = 0; i < bare6.n; i++) counts[bare6.len[i] === 128 ? "x6" : "v6"]++;
    const tables = {} as Record<TableName, Table>;
    for (const t of ADDR_TABLES) tables[t] = new Table(t, counts[t]);
    const l4index = new Set<string>();
    const l4keys = Buffer.alloc(SIZES.l4Key * Math.max(1, n));
    const l4ids: number[] = [];
    // Deny sets' summaries: (set, proto, ANYPORT) and (set, 0, ANY) → lowest rule id of the kind.
    const summaries = new Map<string, { set: number; proto: number; dir: number; id: number }>();
    const summary = (set: number, proto: number, dir: number, id: number) => {
      const k = `${set}/${proto}/${dir}`, s = summaries.get(k);
      if (!s) summaries.set(k, { set, proto, dir, id });
      else if (id < s.id) s.id = id;
    };
    // IPv4 rules move while the table is built (Robin Hood): until the end, a rule's slot holds
    // its id where the last-hit time goes, and its TTL and carried last hit wait here.
    const expOf = new Map<number, bigint>(), lastOf = new Map<number, number>();
    let bulkIds: Uint32Array | null = null;
    const t4 = this.t4;
    const recWords = new Uint32Array(this.recs.buffer, this.recs.byteOffset, this.recs.length >>> 2);
    let next = base, duplicates = 0, flags = 0, used = 0;
    const full = () => new OpError(`the rules do not fit: the blacklist holds ${cap} (attach with a larger --max-rules)`);
    const tooFull = () => new OpError(`the IPv4 rules do not fit in the table (${t4.size} slots a generation): attach with a larger --max-rules`);
    const place4 = (be: number, len: number, tag: number): number => {
      let p;
      try {
        p = t4.placeRH(gen, wireLE(maskBE(be, len)), len, tag);
      } catch (e) {
        if (e instanceof TableFull && flat) throw tooFull();
        throw e;
      }
      if (p.fresh) used++;
      flags |= HAS_V4 | (len === 32 ? HAS_V4_FULL : 0) | (tag & TAG_DST ? HAS_DST : 0);
      return p.slot;
    };
    const newRec = (expires: bigint, allow: boolean, hits?: Hits): number => {
      const id = next++;
      if (id - base >= cap) throw full();
      this.setRec(id, expires, allow, hits);
      return id;
    };
    // IPv4 keys that rules given in full take (they win over the same bare prefix, as before).
    const taken = new Set<number>();
    for (const { rule: r } of rules) if (isV4(r.match) && r.l4.kind === "none" && tagOf(r) === 0) taken.add(maskBE(beOf(r.match.prefix.addr), r.match.prefix.len) * 64 + r.match.prefix.len);
    if (bare4?.n) {
      // Bare source prefixes first, into the empty table in one sorted pass (bulkRules).
      const bn = bare4.n, ba = new Uint32Array(bn), bl = new Uint8Array(bn);
      let m = 0;
      for (let i = 0; i < bn; i++) {
        const be = maskBE(bare4.addr[i], bare4.len[i]);
        if (taken.has(be * 64 + bare4.len[i])) {
          duplicates++;
          continue;
        }
        ba[m] = wireLE(be);
        bl[m++] = bare4.len[i];
      }
      // Rule ids come after those of the rules given in full (as they always did): until those
      // are known, a bare rule's slot holds BULK | its index.
      bulkIds = new Uint32Array(m);
      for (let i = 0; i < m; i++) bulkIds[i] = BULK | i;
      let took: number;
      try {
        took = t4.bulkRules(gen, ba, bl, m, bulkIds);
      } catch (e) {
        if (e instanceof TableFull && flat) throw tooFull();
        throw e;
      }
      used += took;
      duplicates += m - took;
      if (m) flags |= HAS_V4;
      if (bl.includes(32)) flags |= HAS_V4_FULL;
    }
    for (let i = 0; i < n; i++) {
      const { rule: r, expires, hits } = rules[i];
      const m = r.match;
      const tag = tagOf(r);
      let set = r.allow ? SET_ALLOW : SET_DENY;
      let t: Table | null = null, idx = -1, slot = -1;
      if (isV4(m)) {
        slot = place4(beOf(m.prefix.addr), m.prefix.len, tag);
        if (r.l4.kind === "none") {
          if (t4.flags(slot) & SLOT_RULE) {
            duplicates++;
            continue;
          }
          const id = next++;
          if (id - base >= cap) throw full();
          this.setRec(id, expires, r.allow, undefined, 0);
          if (expires) expOf.set(id, expires);
          t4.takeRule(slot, expires !== 0n, hits); // the generation is idle: order does not matter
          if (hits?.last) lastOf.set(id, t4.word3(slot));
          t4.setWord3(slot, id);
          if (r.allow) flags |= HAS_ALLOW;
          continue;
        }
        set = t4.set(slot);
        if (!set) t4.setSet(slot, (set = cc.nextSet++));
      } else if (m.kind !== "none") {
        t = tables[tableOf(m)];
        flags |= flagsOf(t.name, tag);
        idx = t.entry(m, tag);
        if (r.l4.kind === "none" && t.rule[idx]) {
          duplicates++;
          continue;
        }
        if (r.l4.kind !== "none") set = t.set[idx] ||= cc.nextSet++;
      }
      if (r.l4.kind !== "none") {
        const l4 = r.l4;
        const k = l4.kind === "proto" ? `${set}/${l4.proto}` : `${set}/${l4.proto}/${l4.dir}/${l4.port}`;
        if (l4index.has(k)) {
          duplicates++;
          continue;
        }
        l4index.add(k);
      }
      const id = newRec(expires, r.allow, hits);
      if (r.l4.kind === "none") t!.rule[idx] = id;
      else {
        const l4 = r.l4;
        writeL4Key(l4keys, l4ids.length * SIZES.l4Key, set, l4.proto, l4.kind === "proto" ? L4_PROTO : l4.dir === "src" ? L4_SPORT : L4_DPORT, l4.kind === "proto" ? 0 : l4.port);
        l4ids.push(id);
        if (!r.allow) {
          summary(set, 0, L4_ANY, id);
          if (l4.kind === "port") summary(set, l4.proto, L4_ANYPORT, id);
        }
      }
      if (r.allow) flags |= HAS_ALLOW;
      else if (m.kind === "none") flags |= HAS_GLOBAL_DENY;
    }
    if (bulkIds) {
      // Bare rules' ids, in file order, skipping the duplicates bulkRules dropped.
      for (let i = 0; i < bulkIds.length; i++) {
        if (!bulkIds[i]) continue;
        const id = next++;
        if (id - base >= cap) throw full();
        bulkIds[i] = id;
        const o = id * 8;
        recWords[o] = recWords[o + 1] = recWords[o + 4] = recWords[o + 5] = recWords[o + 6] = recWords[o + 7] = 0;
        recWords[o + 2] = RULE_ACTIVE | RULE_SLOT;
      }
    }
    if (bare6?.n) {
      for (let i = 0; i < bare6.n; i++) {
        const len = bare6.len[i];
        const t = len === 128 ? tables.x6 : tables.v6;
        flags |= flagsOf(t.name, 0);
        const idx = t.entry6(0, bare6.addr, i * 16, len);
        if (t.rule[idx]) {
          duplicates++;
          continue;
        }
        const id = next++;
        if (id - base >= cap) throw full();
        const o = id * 8; // a plain deny record, counters zero (typed-array writes: 100k in ~1 ms)
        recWords.fill(0, o, o + 8);
        recWords[o + 2] = RULE_ACTIVE;
        t.rule[idx] = id;
      }
    }
    // Refused before a hash or trie is written (the table and records are the idle generation's:
    // nothing reads them, and the next replace or gc empties them).
    const room: [string, number, BpfMap][] = [["IPv6 prefixes", tables.v6.n, this.table("v6", gen)], ["IPv6 addresses", tables.x6.n, this.table("x6", gen)], ["MAC addresses", tables.mac.n, this.table("mac", gen)], ["rules with a port or protocol (and their summaries)", l4ids.length + summaries.size, this.table("l4", gen)]];
    for (const [what, n, m] of room) if (n > m.info.maxEntries) throw new OpError(`the rules do not fit: ${n} ${what}, the blacklist holds ${m.info.maxEntries} (attach with a larger --max-rules)`);
    // Every IPv4 rule has its final slot now: link records to slots, TTLs to slot handles.
    const exp4: { id: number; expires: bigint }[] = [];
    t4.linkRules(gen, (slot, id0, f) => {
      const id = id0 & BULK ? bulkIds![id0 & ~BULK] : id0;
      recWords[id * 8 + 3] = slot;
      if (f & SLOT_TTL) exp4.push({ id: cc.slotBase + slot, expires: expOf.get(id)! });
      return lastOf.size ? lastOf.get(id) ?? 0 : 0;
    });
    if (exp4.length > this.maps.bl_exp4.info.maxEntries) throw new OpError(`the rules do not fit: ${exp4.length} IPv4 rules with a TTL, the blacklist holds ${this.maps.bl_exp4.info.maxEntries} (attach with a larger --max-rules)`);
    const t1 = performance.now();
    if (exp4.length) {
      const ks = Buffer.alloc(4 * exp4.length), vs = Buffer.alloc(8 * exp4.length);
      exp4.forEach((e, i) => { ks.writeUInt32LE(e.id, i * 4); vs.writeBigUInt64LE(e.expires, i * 8); });
      batch(this.maps.bl_exp4, ks, vs, 4, 8);
    }
    for (const [name, t] of Object.entries(tables) as [TableName, Table][]) {
      if (!t.n) continue;
      const vals = Buffer.alloc(SIZES.entry * t.n);
      for (let i = 0; i < t.n; i++) writeEntry(vals, i * SIZES.entry, t.rule[i], t.set[i], t.plen[i]);
      batch(this.table(name, gen), t.keys.subarray(0, t.n * t.ks), vals, t.ks, SIZES.entry);
    }
    if (l4ids.length) {
      const all = Buffer.alloc(SIZES.l4Key * (l4ids.length + summaries.size)), vals = Buffer.alloc(4 * (l4ids.length + summaries.size));
      all.set(l4keys.subarray(0, l4ids.length * SIZES.l4Key));
      l4ids.forEach((id, i) => vals.writeUInt32LE(id, i * 4));
      let i = l4ids.length;
      for (const x of summaries.values()) {
        writeL4Key(all, i * SIZES.l4Key, x.set, x.proto, x.dir, 0);
        vals.writeUInt32LE(x.id, i++ * 4);
      }
      batch(this.table("l4", gen), all, vals, SIZES.l4Key, 4);
    }
    const t2 = performance.now();
    this.publishTable(gen);
    // Two writes: first what the new generation holds, then the switch itself, so the program
    // never reads the new generation's number with the old generation's flags.
    const now = this.cfg;
    now.nextId[gen] = next;
    now.flags[gen] = flags | (flat ? T4_FLAT : 0);
    now.t4Used[gen] = used;
    now.nextSet = cc.nextSet;
    this.writeCfg(now);
    const ts = performance.now();
    now.gen = gen;
    this.writeCfg(now);
    const t3 = performance.now();
    if (!keepOld) this.clear(gen ^ 1);
    const t4done = performance.now();
    const count = next - base;
    const entries = ADDR_TABLES.reduce((a, t) => a + tables[t].n, 0) + l4ids.length + used;
    return { rules: count, duplicates, entries, prepareMs: t1 - t0, writeMs: t2 - t1, switchUs: (t3 - ts) * 1000, clearOldMs: keepOld ? null : t4done - t3, totalMs: t4done - t0 };
  }

  /** Live rules by action, and packets dropped by deny rules, from records and slots alone (a
   *  million rules in tens of ms: what `status` shows). */
  summary(now: bigint): { deny: number; allow: number; expired: number; dropped: number; undecidable: number } {
    const c = this.cfg, gen = c.gen, base = this.base(gen, c), t = Number(now);
    const rw = new Uint32Array(this.recs.buffer, this.recs.byteOffset, this.recs.length >>> 2);
    let deny = 0, allow = 0, expired = 0, dropped = 0;
    for (let id = base; id < c.nextId[gen]; id++) {
      const o = id * 8, f = rw[o + 2];
      if (!(f & RULE_ACTIVE)) continue;
      const exp = rw[o] + rw[o + 1] * 2 ** 32; // ns since boot: exact for 104 days, then within ns
      if (exp && exp <= t) {
        expired++;
        continue;
      }
      if (f & RULE_ALLOW) {
        allow++;
        continue;
      }
      deny++;
      dropped += f & RULE_SLOT ? this.t4.packets(rw[o + 3]) : rw[o + 4] + rw[o + 5] * 2 ** 32;
    }
    const u = this.maps.bl_undecided.lookup(ZERO);
    return { deny, allow, expired, dropped, undecidable: u ? Number(u.readBigUInt64LE(0)) : 0 };
  }

  /** Rules of a generation by state (no entries decoded: cheap at 1M): how many are live, and
   *  the ids of those past their TTL. */
  census(now: bigint, gen = this.cfg.gen): { live: number; expired: number[] } {
    const c = this.cfg, base = this.base(gen, c);
    let live = 0;
    const expired: number[] = [];
    for (let id = base; id < c.nextId[gen]; id++) {
      const o = id * SIZES.rec;
      if (!(this.recs.readUInt32LE(o + 8) & RULE_ACTIVE)) continue;
      const exp = this.recs.readBigUInt64LE(o);
      if (exp === 0n || exp > now) live++;
      else expired.push(id);
    }
    return { live, expired };
  }

  /** Ports that some live-generation rule names for this protocol and direction (any address),
   *  from the l4 keys alone. */
  portsNamed(proto: 6 | 17, dir: "src" | "dst", gen = this.cfg.gen): Set<number> {
    const want = dir === "src" ? L4_SPORT : L4_DPORT, out = new Set<number>();
    this.table("l4", gen).lookupBatch(CHUNK, (keys, _v, n) => {
      for (let k = 0; k < n * SIZES.l4Key; k += SIZES.l4Key) if (keys[k + 4] === proto && keys[k + 5] === want) out.add(keys.readUInt16LE(k + 6));
    });
    return out;
  }

  /** Ids a generation has handed out (deleted ones included): the live one by default, or the
   *  idle one, where a replaced set waits to be freed. */
  idsUsed(gen = this.cfg.gen): number {
    const c = this.cfg;
    return c.nextId[gen] - this.base(gen, c);
  }

  /** Empty one generation (must not be the live one) and free its ids. */
  clear(gen: number): void {
    const c = this.cfg;
    if (gen === c.gen && this.idsUsed(gen) + c.t4Used[gen] !== 0) throw new Error("refusing to clear the live generation");
    // TTLs of the generation's slots: the only bl_exp4 entries in its slot range.
    const lo = c.slotBase + gen * this.t4.size, hi = lo + this.t4.size;
    const expKeys: Buffer[] = [];
    let nexp = 0;
    this.maps.bl_exp4.lookupBatch(CHUNK, (keys, _v, n) => {
      for (let i = 0; i < n; i++) {
        const id = keys.readUInt32LE(i * 4);
        if (id >= lo && id < hi) {
          expKeys.push(Buffer.from(keys.subarray(i * 4, i * 4 + 4)));
          nexp++;
        }
      }
    });
    if (nexp) this.maps.bl_exp4.deleteBatch(Buffer.concat(expKeys), nexp);
    if (this.tables[gen] || this.maps.bl_t4.lookup(u32(gen))) this.maps.bl_t4.delete(u32(gen)); // the kernel frees the table
    this.releaseTable(gen);
    this.t4.clearLengths(gen);
    for (const table of [...ADDR_TABLES, "l4"] as const) {
      const m = this.table(table, gen);
      const all: Buffer[] = [];
      let count = 0;
      m.lookupBatch(CHUNK, (keys, _v, n) => {
        all.push(Buffer.from(keys));
        count += n;
      });
      if (count) m.deleteBatch(Buffer.concat(all), count);
    }
    // Records of the freed ids stay: nothing points at them any more, and the next user of an
    // id writes its record (counters zeroed) before any entry points at it.
    const now = this.cfg;
    now.nextId[gen] = this.base(gen, now);
    now.flags[gen] = 0;
    now.t4Used[gen] = 0;
    this.writeCfg(now);
    this.t4.setFlat(gen, false);
  }
}

export interface ReplaceInput {
  rule: Rule;
  expires: bigint;
  hits?: Hits;
}

export interface ReplaceStats {
  rules: number;
  duplicates: number;
  entries: number;
  prepareMs: number;
  writeMs: number;
  /** The switch itself: one bl_cfg write. */
  switchUs: number;
  /** null: the old generation was left for a background `blacklist gc`. */
  clearOldMs: number | null;
  totalMs: number;
}

export { ruleKey };

/** A rule as BlacklistMaps.scan() sees it: where its match entry's key bytes are. */
export interface RuleView {
  id: number;
  allow: boolean;
  /** Where the match entry lives; null: the rule names no address. */
  table: WhereName | null;
  keys: Buffer;
  keyOff: number;
  /** Prefix length of an address match. */
  len: number;
  dst: boolean;
  l4: Rule["l4"];
  /** CLOCK_MONOTONIC_COARSE ns, 0n = never. */
  expires: bigint;
}

const NO_L4: Rule["l4"] = { kind: "none" };

function isV4(m: Match): m is Extract<Match, { kind: "prefix" }> {
  return m.kind === "prefix" && m.prefix.family === 4;
}

function beOf(a: Uint8Array): number {
  return ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
}

function formatPrefix4(a: Uint8Array, len: number): string {
  return `${a.join(".")}/${len}`;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

function writeCounters(b: Buffer, off: number, h: Hits): void {
  b.writeUInt32LE(h.last ? Number(h.last >> BigInt(LAST_SHIFT)) >>> 0 : 0, off);
  b.writeUInt32LE(h.packets >>> 0, off + 4);
  b.writeUInt32LE(Math.floor(h.packets / 2 ** 32), off + 8);
  b.writeUInt32LE(h.bytes >>> 0, off + 12);
  b.writeUInt32LE(Math.floor(h.bytes / 2 ** 32), off + 16);
}

/** Where an address table's key keeps the address (blacklist_types.h): a slot and exact keys
 *  start with the address (after a tag byte for exact keys); LPM keys are prefixlen, tag, address. */
function prefixAt(v: RuleView): { family: 4 | 6; at: number; len: number } {
  const { table, keyOff: k } = v;
  if (table === "t4") return { family: 4, at: k, len: v.len };
  return { family: 6, at: k + (table === "v6" ? 5 : 1), len: v.len };
}

function matchOf(v: RuleView): Match {
  const dir = v.dst ? "dst" : "src";
  if (v.table === null) return { kind: "none" };
  if (v.table === "mac") return { kind: "mac", dir, mac: new Uint8Array(v.keys.subarray(v.keyOff + 1, v.keyOff + 7)) };
  const { family, at, len } = prefixAt(v);
  return { kind: "prefix", dir, prefix: { family, addr: new Uint8Array(v.keys.subarray(at, at + (family === 4 ? 4 : 16))), len } };
}

/** The rule's match as `add` writes it, from the key bytes (no objects). */
export function matchText(v: RuleView): string | null {
  if (v.table === null) return null;
  if (v.table === "mac") return `mac ${formatMac(v.keys, v.keyOff + 1)}`;
  const { family, at, len } = prefixAt(v);
  return `${family === 4 ? formatIPv4(v.keys, at) : formatIPv6(v.keys, at)}/${len}`;
}
