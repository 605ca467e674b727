// maps.ts — the blacklist's BPF maps as one object: opening and mapping them, the generation
// switch (bl_cfg), records and ids, and where a rule lives. What changes or reads rules is beside
// it: edit.ts (one rule at a time), build.ts (a whole set into the idle generation), scan.ts
// (every rule back, in windows).
//
// Layout and model: bpf/include/blacklist_types.h. IPv4 address rules are slots of bl_t4
// (table4.ts); every other rule has a record in bl_recs and an entry in a hash / LPM map. The
// three big arrays are mmapped when first used: writing and reading them is memory access, no
// syscalls. Every change runs under the caller's lock (see store.ts); nothing here is safe
// against a concurrent writer on its own.
import { BpfMap } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import { mmapInPieces, munmap, PROT_READ, PROT_WRITE, PAGE_SIZE, type Mapping } from "../ffi/mmap.ts";
import { T4_FLAT, L4_DPORT, L4_SPORT, LAST_SHIFT, MAP_NAMES, RULE_ACTIVE, RULE_ALLOW, RULE_SLOT, SET_ALLOW, SET_DENY, SIZES, SLOT_RULE, STAMP4, decodeCfg, encodeCfg, writeRec, type Cfg } from "./layout.ts";
import { ruleKey, type Match, type Rule } from "./rules.ts";
import type { Bare4, Bare6 } from "./parse.ts";
import { ZERO, CHUNK, tagOf, type TableName, ADDR_TABLES, entryKey, l4Key, u32, exactEntry } from "./tables.ts";
import { Table4, TableFull, maskBE, wireLE, type SlotCounters } from "./table4.ts";
import { newTable, t4SizeFor } from "./sizing.ts";
import { matchOf, type RuleView } from "./view.ts";
import { beOf, isV4, writeCounters } from "./words.ts";
import { buildGeneration, type ReplaceInput, type ReplaceStats } from "./build.ts";
import { censusOf, scanRules, summaryOf } from "./scan.ts";
import { addRule, deleteRule } from "./edit.ts";
import { dropNotesIn, notesForSwap } from "./notes.ts";
export { batchProgress } from "./tables.ts";

export type MapName = (typeof MAP_NAMES)[number];

/** A rule as stored: its id and absolute expiry (CLOCK_MONOTONIC_COARSE ns, 0n = never). */
export interface StoredRule extends Rule {
  id: number;
  expires: bigint;
}

export type Hits = SlotCounters;

/** add() found no slot for an IPv4 prefix in its /24's window (bl_hash4): the set fits when built
 *  flat (store.ts addRule does that). */
export class WindowFull extends OpError {}

/** BL_HOST4_STAMP: what bl_host4 holds for a generation whose bits the program may trust. */
function hostStamp(c: Cfg, gen: number): bigint {
  return (BigInt((c.t4Used[gen] | 0x80000000) >>> 0) << 32n) | BigInt(c.nextId[gen] >>> 0);
}

function mapAll(m: BpfMap, name: string): Mapping {
  const len = Math.ceil((m.info.maxEntries * Math.ceil(m.info.valueSize / 8) * 8) / PAGE_SIZE) * PAGE_SIZE;
  return mmapInPieces(name, m.fd, len, PROT_READ | PROT_WRITE);
}

export class BlacklistMaps {
  /** Each generation's IPv4 table (an inner map of bl_t4) and its mapping, once mapped. */
  private readonly tables: ({ map: BpfMap; mapping: Mapping | null } | null)[] = [null, null];
  private mlen: Mapping | null = null;
  private mhost: Mapping | null = null;
  private mrec: Mapping | null = null;
  readonly t4: Table4;

  // Nothing is mapped until used: every page of a mapped BPF array counts as resident at once
  // (docs/A-measurements.md has the figures), and scans (scan.ts) read in windows instead.
  constructor(readonly maps: Record<MapName, BpfMap>) {
    this.t4 = new Table4(() => (this.mlen ??= mapAll(maps.bl_len4, "bl_len4")).buf, () => (this.mhost ??= mapAll(maps.bl_host4, "bl_host4")).buf, t4SizeFor(maps.bl_recs.info.maxEntries / 2 - 1));
    for (const gen of [0, 1]) {
      const id = maps.bl_t4.lookup(u32(gen));
      if (id) this.useTable(gen, BpfMap.byId(id.readUInt32LE(0)));
      this.t4.setFlat(gen, (this.cfg.flags[gen] & T4_FLAT) !== 0);
    }
  }

  /** bl_recs as a Buffer over its mapping (mapped on first use). */
  get recs(): Buffer {
    return (this.mrec ??= mapAll(this.maps.bl_recs, "bl_recs")).buf;
  }

  static open(fdOf: (name: MapName) => number): BlacklistMaps {
    const maps = {} as Record<MapName, BpfMap>;
    for (const n of MAP_NAMES) maps[n] = new BpfMap(fdOf(n));
    return new BlacklistMaps(maps);
  }

  private useTable(gen: number, map: BpfMap): void {
    const t = { map, mapping: null as Mapping | null };
    this.tables[gen] = t;
    this.t4.setGen(gen, () => (t.mapping ??= mapAll(map, "the IPv4 table")).buf);
  }

  /** A generation's IPv4 table map (for reading it in windows), or null. */
  tableMap(gen: number): BpfMap | null {
    return this.tables[gen]?.map ?? null;
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
  /** (build.ts) */
  freshTable(gen: number): void {
    this.releaseTable(gen);
    this.useTable(gen, newTable(this.t4.size));
  }

  /** (build.ts) */
  publishTable(gen: number): void {
    this.maps.bl_t4.update(u32(gen), u32(this.tables[gen]!.map.fd));
  }

  close(): void {
    this.releaseTable(0);
    this.releaseTable(1);
    munmap(this.mlen);
    munmap(this.mhost);
    munmap(this.mrec);
    this.mlen = this.mhost = this.mrec = null;
    for (const m of Object.values(this.maps)) m.close();
  }

  /** A generation's hash or LPM map of a kind. */
  table(kind: TableName | "l4", gen: number): BpfMap {
    return this.maps[`bl_${kind}_${gen}` as MapName];
  }

  get cfg(): Cfg {
    return decodeCfg(this.maps.bl_cfg.lookup(ZERO)!);
  }

  /**
   * Write bl_cfg. bl_host4's stamp of each generation follows the counts it is made of when the
   * bits were complete before this change (every change here keeps them so: place() marks /32s)
   * or the caller says they are now (`vouch`: a generation just emptied, or given its first /32).
   * The stamp goes second: a packet between the writes sees a stale stamp and probes.
   */
  writeCfg(c: Cfg, vouch: number[] = []): void {
    const before = this.cfg;
    this.maps.bl_cfg.update(ZERO, encodeCfg(c));
    // Through the syscall, not the mapping: a rule edit need not map 8 MiB for one word.
    for (const gen of [0, 1]) {
      const key = u32(STAMP4 + gen), stamp = this.maps.bl_host4.lookup(key)?.readBigUInt64LE(0);
      if (!vouch.includes(gen) && stamp !== hostStamp(before, gen)) continue;
      const v = Buffer.alloc(8);
      v.writeBigUInt64LE(hostStamp(c, gen));
      this.maps.bl_host4.update(key, v);
    }
  }

  /** Set up id ranges on a fresh map set; a no-op once done (pins are reused across attaches). */
  init(): void {
    const c = this.cfg;
    if (c.half) return;
    const recs = this.maps.bl_recs.info.maxEntries, half = Math.floor(recs / 2);
    this.writeCfg({ gen: 0, nextSet: 2, half, flags: [0, 0], nextId: [1, half], t4Size: this.t4.size, slotBase: recs, t4Used: [0, 0] }, [0, 1]);
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
    const slot = handle - c.slotBase, gen = slot >= this.t4.size ? 1 : 0, end = c.nextId[gen];
    // A slot does not name its rule (32 bytes, all used), so the records are searched: words
    // 2 (flags) and 3 (slot) of each, one typed-array loop (a million records in a few ms).
    const recs = this.recs, rw = new Uint32Array(recs.buffer, recs.byteOffset, recs.length >>> 2), want = RULE_ACTIVE | RULE_SLOT;
    for (let id = this.base(gen, c), o = id * 8 + 2; id < end; id++, o += 8) if (rw[o + 1] === slot && (rw[o] & want) === want) return id;
    return 0;
  }

  /** The slot of an IPv4 rule's prefix in `gen`, or -1. */
  slotOf(m: Match, tag: number, gen: number): number {
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

  /** A record with zeroed counters (or carried ones); for an IPv4 rule, which slot is its. */
  setRec(id: number, expires: bigint, allow: boolean, carry?: Hits, slot = -1): void {
    const o = id * SIZES.rec;
    writeRec(this.recs, o, expires, 0);
    if (carry) writeCounters(this.recs, o + 12, carry);
    if (slot >= 0) this.recs.writeUInt32LE(slot, o + 12);
    // The flags last: the record is whole before the program can count it as live.
    this.recs.writeUInt32LE(RULE_ACTIVE | (allow ? RULE_ALLOW : 0) | (slot >= 0 ? RULE_SLOT : 0), o + 8);
  }

  /** Add one rule to the live generation (edit.ts). Returns the id and whether it was already there. */
  add(r: Rule, expires: bigint, now: bigint): { id: number; existed: boolean } {
    return addRule(this, r, expires, now);
  }

  /** Remove one rule from the live generation (edit.ts); false when it is not there. */
  delete(r: Rule): boolean {
    return deleteRule(this, r);
  }

  /** Every live rule of a generation in id order, read in windows (scan.ts scanRules). */
  scan(visit: (v: RuleView) => void, gen = this.cfg.gen, withHits = false): void {
    scanRules(this, visit, gen, withHits);
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
  replace(rules: ReplaceInput[], bare4?: Bare4, bare6?: Bare6, keepOld = false, flat = false): ReplaceStats {
    const notes = notesForSwap(this, (function* () { for (const x of rules) yield x.rule; })());
    if (flat) return buildGeneration(this, rules, bare4, bare6, keepOld, true, notes);
    try {
      return buildGeneration(this, rules, bare4, bare6, keepOld, false, notes);
    } catch (e) {
      // Some /24 holds more /24-/31 prefixes than its window takes: build again without windows
      // (the generation being built is not live: nothing has seen it).
      if (!(e instanceof TableFull)) throw e;
      return buildGeneration(this, rules, bare4, bare6, keepOld, true, notes);
    }
  }

  summary(now: bigint): ReturnType<typeof summaryOf> {
    return summaryOf(this, now);
  }

  census(now: bigint, gen = this.cfg.gen): { live: number; expired: number[] } {
    return censusOf(this, now, gen);
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
    if (nexp) deleteGently(this.maps.bl_exp4, Buffer.concat(expKeys), nexp);
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
      if (count) deleteGently(m, Buffer.concat(all), count);
    }
    dropNotesIn(this.maps.bl_notes, this.base(gen, c), this.base(gen, c) + this.capacity(c));
    // Records of the freed ids stay: nothing points at them any more, and the next user of an
    // id writes its record (counters zeroed) before any entry points at it.
    const now = this.cfg;
    now.nextId[gen] = this.base(gen, now);
    now.flags[gen] = 0;
    now.t4Used[gen] = 0;
    this.writeCfg(now, [gen]); // bits cleared with the lengths, no /32 left
    this.t4.setFlat(gen, false);
  }
}

export { ruleKey };

/**
 * Delete many entries CHUNK at a time, pausing between: one call deleting 4096 entries of an LPM
 * trie could hold a CPU for ~3 ms (bench/manage.bench.ts, "freeing the replaced set"), and each
 * deleted entry leaves the kernel an RCU callback to run; short calls with room between keep
 * both small. This runs in the background gc, where time is cheap.
 */
function deleteGently(m: BpfMap, keys: Buffer, count: number): void {
  const ks = m.info.keySize, step = CHUNK;
  for (let i = 0; i < count; i += step) {
    if (i) Bun.sleepSync(1);
    m.deleteBatch(keys.subarray(i * ks, Math.min(count, i + step) * ks), Math.min(step, count - i));
  }
}

