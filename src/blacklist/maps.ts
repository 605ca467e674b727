// maps.ts — the blacklist's rules in its BPF maps: add, delete, read back, rebuild and switch.
//
// Layout and model: bpf/include/blacklist_types.h. Every change runs under the caller's lock
// (see store.ts); nothing here is safe against a concurrent writer on its own.
import { BpfMap, BPF_ANY, BPF_NOEXIST, possibleCpus } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import type { BpfObject } from "../ffi/object.ts";
import { formatIPv4, formatIPv6, formatMac } from "../net/addr.ts";
import { HAS_ALLOW, HAS_GLOBAL_DENY, L4_DPORT, L4_PROTO, L4_SPORT, MAP_NAMES, RULE_ACTIVE, RULE_ALLOW, SET_ALLOW, SET_DENY, SIZES, TAG_ALLOW, TAG_DST, decodeCfg, encodeCfg, writeEntry, writeL4Key, writeRule, type Cfg } from "./layout.ts";
import { ruleKey, type Match, type Rule } from "./rules.ts";
import type { Bare4, Bare6 } from "./parse.ts";
import { ZERO, CHUNK, tagOf, type TableName, ADDR_TABLES, KEY_SIZE, TABLE_FLAG, tableOf, flagsOf, entryKey, l4Key, u32, Table, exactEntry, batch } from "./tables.ts";
export { batchProgress } from "./tables.ts";

export type MapName = (typeof MAP_NAMES)[number];

/** A rule as stored: its id and absolute expiry (CLOCK_MONOTONIC_COARSE ns, 0n = never). */
export interface StoredRule extends Rule {
  id: number;
  expires: bigint;
  /** bl_rule.serial: counters with another serial belong to an earlier user of the id. */
  serial: number;
}

export interface Hits {
  packets: number;
  bytes: number;
  /** CLOCK_MONOTONIC_COARSE ns of the last hit, 0n = never. */
  last: bigint;
}

/**
 * Size an opened (not yet loaded) blacklist object for `maxRules` rules per generation: the id
 * tables hold both generations (ids 1 … 2·max+1), the preallocated /32 hashes one each.
 */
export function sizeMaps(obj: BpfObject, maxRules: number): void {
  for (const m of obj.maps()) {
    if (m.name === "bl_rules" || m.name === "bl_hits") obj.setMaxEntries(m, 2 * (maxRules + 1));
    if (m.name === "bl_x4_0" || m.name === "bl_x4_1") obj.setMaxEntries(m, maxRules);
  }
}

export class BlacklistMaps {
  constructor(readonly maps: Record<MapName, BpfMap>) {}

  static open(fdOf: (name: MapName) => number): BlacklistMaps {
    const maps = {} as Record<MapName, BpfMap>;
    for (const n of MAP_NAMES) maps[n] = new BpfMap(fdOf(n));
    return new BlacklistMaps(maps);
  }

  close(): void {
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
    const half = Math.floor(this.maps.bl_rules.info.maxEntries / 2);
    this.writeCfg({ gen: 0, nextSet: 2, half, flags: [0, 0], nextId: [1, half], nextSerial: 1 });
  }

  base(gen: number, c = this.cfg): number {
    return gen === 0 ? 1 : c.half;
  }

  /** Most rules one generation holds. */
  capacity(c = this.cfg): number {
    return c.half - 1;
  }

  private hitBytes(): number {
    return this.maps.bl_hits.valueBytes;
  }

  /** Where a rule lives in the live generation: its id, or null. */
  locate(r: Rule, gen = this.cfg.gen): number | null {
    const ek = entryKey(r.match, tagOf(r));
    let set = r.allow ? SET_ALLOW : SET_DENY;
    if (ek) {
      const v = this.table(ek.table, gen).lookup(ek.key);
      if (!v || !exactEntry(v, ek.plen, ek.table)) return null;
      if (r.l4.kind === "none") return v.readUInt32LE(0) || null;
      set = v.readUInt32LE(4);
      if (!set) return null;
    }
    const v = this.table("l4", gen).lookup(l4Key(r, set)!);
    return v ? v.readUInt32LE(0) || null : null;
  }

  ruleState(id: number): { flags: number; expires: bigint; serial: number } {
    const v = this.maps.bl_rules.lookup(u32(id))!;
    return { expires: v.readBigUInt64LE(0), flags: v.readUInt32LE(8), serial: v.readUInt32LE(12) };
  }

  setRule(id: number, expires: bigint, allow: boolean, serial: number): void {
    const b = Buffer.alloc(SIZES.rule);
    writeRule(b, 0, expires, RULE_ACTIVE | (allow ? RULE_ALLOW : 0), serial);
    this.maps.bl_rules.update(u32(id), b);
  }

  /** Add one rule to the live generation. Returns the id and whether it was already there. */
  add(r: Rule, expires: bigint, now: bigint): { id: number; existed: boolean } {
    const c = this.cfg;
    const gen = c.gen;
    const old = this.locate(r, gen);
    if (old) {
      const s = this.ruleState(old);
      if (s.flags & RULE_ACTIVE && (s.expires === 0n || s.expires > now)) {
        // Same rule again: it takes the new TTL (or loses its TTL), nothing else changes.
        this.setRule(old, expires, r.allow, s.serial);
        return { id: old, existed: true };
      }
    }
    const id = c.nextId[gen];
    if (id >= this.base(gen, c) + this.capacity(c)) throw new OpError(`blacklist is full (${this.capacity(c)} rules); attach with a larger --max-rules`);
    // The rule first, the entry that points at it last: the fast path never sees a half-made
    // rule. A fresh serial makes the program restart the id's counters on its first hit.
    c.nextId[gen] = id + 1;
    const serial = c.nextSerial++;
    const ek = entryKey(r.match, tagOf(r));
    if (ek) c.flags[gen] |= flagsOf(ek.table, tagOf(r));
    if (r.allow) c.flags[gen] |= HAS_ALLOW;
    if (!ek && !r.allow) c.flags[gen] |= HAS_GLOBAL_DENY;
    let entry: Buffer | null = null;
    let set = r.allow ? SET_ALLOW : SET_DENY;
    if (ek) {
      const v = this.table(ek.table, gen).lookup(ek.key);
      entry = Buffer.alloc(SIZES.entry);
      if (v && exactEntry(v, ek.plen, ek.table)) entry.set(v.subarray(0, SIZES.entry));
      else writeEntry(entry, 0, 0, 0, ek.plen);
      if (r.l4.kind === "none") entry.writeUInt32LE(id, 0);
      else {
        set = entry.readUInt32LE(4);
        if (!set) entry.writeUInt32LE((set = c.nextSet++), 4);
      }
    }
    this.writeCfg(c);
    this.setRule(id, expires, r.allow, serial);
    const lk = l4Key(r, set);
    if (lk) this.table("l4", gen).update(lk, u32(id), old ? BPF_ANY : BPF_NOEXIST);
    if (ek && entry) this.table(ek.table, gen).update(ek.key, entry);
    return { id, existed: false };
  }

  /** Remove one rule from the live generation; false when it is not there. */
  delete(r: Rule): boolean {
    const gen = this.cfg.gen;
    const id = this.locate(r, gen);
    if (!id) return false;
    this.maps.bl_rules.update(u32(id), Buffer.alloc(SIZES.rule)); // stops matching at once
    const ek = entryKey(r.match, tagOf(r));
    if (r.l4.kind !== "none") {
      let set = r.allow ? SET_ALLOW : SET_DENY;
      if (ek) set = this.table(ek.table, gen).lookup(ek.key)!.readUInt32LE(4);
      this.table("l4", gen).delete(l4Key(r, set)!);
      return true;
    }
    const t = this.table(ek!.table, gen);
    const v = t.lookup(ek!.key)!;
    const entry = Buffer.from(v.subarray(0, SIZES.entry));
    entry.writeUInt32LE(0, 0);
    if (entry.readUInt32LE(4) === 0) t.delete(ek!.key);
    else t.update(ek!.key, entry);
    return true;
  }

  /**
   * Visit every live rule of a generation, straight from the map entries: `v` is one object
   * reused for every rule (copy what you keep), so a million rules cost no million objects.
   * Order is the maps' order; `v.id - base` gives a rule's place in id order.
   */
  scan(visit: (v: RuleView) => void, gen = this.cfg.gen): void {
    const c = this.cfg;
    const base = this.base(gen, c);
    // States first: an entry whose id is not active is skipped before anything is decoded.
    const states = this.maps.bl_rules.lookupRange(base, c.nextId[gen] - base);
    const v: RuleView = { id: 0, base, states, stateOff: 0, allow: false, table: null, keys: states, keyOff: 0, dst: false, l4: NO_L4 };
    const owners = new Map<number, { table: TableName | null; keys: Buffer; dst: boolean; allow: boolean }>();
    owners.set(SET_DENY, { table: null, keys: states, dst: false, allow: false });
    owners.set(SET_ALLOW, { table: null, keys: states, dst: false, allow: true });
    const live = (id: number) => {
      const off = (id - base) * SIZES.rule;
      if (off < 0 || off >= states.length || !(states.readUInt32LE(off + 8) & RULE_ACTIVE)) return false;
      v.id = id;
      v.stateOff = off;
      return true;
    };
    for (const table of ADDR_TABLES) {
      const ks = KEY_SIZE[table], tagAt = table === "v4" || table === "v6" ? 4 : 0;
      this.table(table, gen).lookupBatch(CHUNK, (keys, values, n) => {
        for (let i = 0; i < n; i++) {
          const rule = values.readUInt32LE(i * SIZES.entry), set = values.readUInt32LE(i * SIZES.entry + 4);
          const tag = keys[i * ks + tagAt];
          if (set) owners.set(set, { table, keys: Buffer.from(keys.subarray(i * ks, (i + 1) * ks)), dst: (tag & TAG_DST) !== 0, allow: (tag & TAG_ALLOW) !== 0 });
          if (!rule || !live(rule)) continue;
          v.allow = (tag & TAG_ALLOW) !== 0;
          v.dst = (tag & TAG_DST) !== 0;
          v.table = table;
          v.keys = keys;
          v.keyOff = i * ks;
          v.l4 = NO_L4;
          visit(v);
        }
      });
    }
    this.table("l4", gen).lookupBatch(CHUNK, (keys, values, n) => {
      for (let i = 0; i < n; i++) {
        const k = i * 8;
        const owner = owners.get(keys.readUInt32LE(k));
        if (!owner || !live(values.readUInt32LE(i * 4))) continue;
        const proto = keys[k + 4], dir = keys[k + 5], port = keys.readUInt16LE(k + 6);
        v.l4 = dir === L4_PROTO ? { kind: "proto", proto } : { kind: "port", proto: proto as 6 | 17, dir: dir === L4_SPORT ? "src" : "dst", port };
        v.allow = owner.allow;
        v.dst = owner.dst;
        v.table = owner.table;
        v.keys = owner.keys;
        v.keyOff = 0;
        visit(v);
      }
    });
  }

  /** Every live rule of a generation as objects (or only those with the given ids), in id order. */
  read(gen = this.cfg.gen, ids?: Set<number>): StoredRule[] {
    const out: StoredRule[] = [];
    this.scan((v) => {
      if (ids && !ids.has(v.id)) return;
      out.push({ allow: v.allow, match: matchOf(v), l4: v.l4, id: v.id, expires: v.states.readBigUInt64LE(v.stateOff), serial: v.states.readUInt32LE(v.stateOff + 12) });
    }, gen);
    return out.sort((a, b) => a.id - b.id);
  }

  /** Per-CPU counters of a generation's id range, raw (for carrying over) and summed. */
  hitsRaw(gen = this.cfg.gen): { base: number; raw: Buffer } {
    const c = this.cfg;
    const base = this.base(gen, c);
    return { base, raw: this.maps.bl_hits.lookupRange(base, c.nextId[gen] - base) };
  }

  sumHits(raw: Buffer, index: number, serial: number): Hits {
    // Number arithmetic (exact below 2^53: years of line rate), BigInt only for a last-hit time.
    const per = this.hitBytes(), cpus = per / SIZES.hit;
    let packets = 0, bytes = 0, last = 0;
    const u64 = (o: number) => raw.readUInt32LE(o) + raw.readUInt32LE(o + 4) * 4294967296;
    for (let cpu = 0; cpu < cpus; cpu++) {
      const o = index * per + cpu * SIZES.hit;
      if (o + SIZES.hit > raw.length) break;
      if (u64(o + 24) !== serial) continue; // an earlier rule's counts
      packets += u64(o);
      bytes += u64(o + 8);
      last = Math.max(last, u64(o + 16));
    }
    return { packets, bytes, last: BigInt(last) }; // ns since boot: rounding past 104 days of uptime is ~ns
  }

  /**
   * Write a whole rule set into the idle generation with batch updates, then make it live with
   * one write of bl_cfg.gen, then empty the old generation. Packets see the old set or the new
   * one, never a mix. Rules that own an entry already taken are duplicates: skipped, counted.
   * `hits`, when given, carries a rule's per-CPU counters over (merge import). With keepOld the
   * old generation is left for clear() by a background `blacklist gc`: freeing a million entries
   * takes longer than building them, and nothing reads them once the switch is done.
   */
  replace(rules: ReplaceInput[], bare4?: Bare4, bare6?: Bare6, keepOld = false): ReplaceStats {
    const t0 = performance.now();
    const c = this.cfg;
    const gen = c.gen ^ 1;
    this.clear(gen); // normally empty already; a crash mid-replace may have left something
    const base = this.base(gen, c), cap = this.capacity(c);
    const serial = c.nextSerial++;
    const n = rules.length;
    const counts: Record<TableName, number> = { v4: 0, v6: 0, x4: 0, x6: 0, mac: 0 };
    for (const { rule: r } of rules) if (r.match.kind !== "none") counts[tableOf(r.match)]++;
    if (bare4) for (let i = 0; i < bare4.n; i++) counts[bare4.len[i] === 32 ? "x4" : "v4"]++;
    if (bare6) for (let i = 0; i < bare6.n; i++) counts[bare6.len[i] === 128 ? "x6" : "v6"]++;
    const tables = {} as Record<TableName, Table>;
    for (const t of ADDR_TABLES) tables[t] = new Table(t, counts[t]);
    const l4index = new Set<string>();
    const l4keys = Buffer.alloc(SIZES.l4Key * Math.max(1, n));
    const l4ids: number[] = [];
    const states = Buffer.alloc(SIZES.rule * Math.min(n + (bare4?.n ?? 0) + (bare6?.n ?? 0), cap + 1));
    const carried: { id: number; hits: Buffer }[] = [];
    let next = base, duplicates = 0, flags = 0;
    for (let i = 0; i < n; i++) {
      const { rule: r, expires, hits } = rules[i];
      const m = r.match;
      const tag = tagOf(r);
      let set = r.allow ? SET_ALLOW : SET_DENY;
      let t: Table | null = null, idx = -1;
      if (m.kind !== "none") {
        t = tables[tableOf(m)];
        flags |= flagsOf(t.name, tag);
        idx = t.entry(m, tag);
        if (r.l4.kind === "none" && t.rule[idx]) {
          duplicates++;
          continue;
        }
        if (r.l4.kind !== "none") set = t.set[idx] ||= c.nextSet++;
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
      const id = next++;
      if (id - base >= cap) throw new OpError(`the rules do not fit: the blacklist holds ${cap} (attach with a larger --max-rules)`);
      if (r.l4.kind === "none") t!.rule[idx] = id;
      else {
        const l4 = r.l4;
        writeL4Key(l4keys, l4ids.length * SIZES.l4Key, set, l4.proto, l4.kind === "proto" ? L4_PROTO : l4.dir === "src" ? L4_SPORT : L4_DPORT, l4.kind === "proto" ? 0 : l4.port);
        l4ids.push(id);
      }
      const so = (id - base) * SIZES.rule;
      if (expires) states.writeBigUInt64LE(expires, so); // (BigInt writes are slow: skip the zeros)
      states.writeUInt32LE(RULE_ACTIVE | (r.allow ? RULE_ALLOW : 0), so + 8);
      states.writeUInt32LE(serial, so + 12);
      if (hits) carried.push({ id, hits });
      if (r.allow) flags |= HAS_ALLOW;
      else if (m.kind === "none") flags |= HAS_GLOBAL_DENY;
    }
    if (bare4?.n) {
      // Bare source prefixes: sorted, so duplicates sit side by side (no per-rule map insert).
      const sorted = new Float64Array(bare4.n);
      for (let i = 0; i < bare4.n; i++) sorted[i] = bare4.len[i] * 2 ** 32 + bare4.addr[i];
      sorted.sort();
      const flagsWord = RULE_ACTIVE;
      for (let i = 0; i < sorted.length; i++) {
        const v = sorted[i];
        const len = Math.floor(v / 2 ** 32), addr = v - len * 2 ** 32;
        const t = len === 32 ? tables.x4 : tables.v4;
        flags |= TABLE_FLAG[t.name];
        if ((i > 0 && sorted[i - 1] === v) || t.has4(0, len, addr)) {
          duplicates++;
          continue;
        }
        const id = next++;
        if (id - base >= cap) throw new OpError(`the rules do not fit: the blacklist holds ${cap} (attach with a larger --max-rules)`);
        t.rule[t.append4(0, len, addr)] = id;
        const so = (id - base) * SIZES.rule;
        states.writeUInt32LE(flagsWord, so + 8);
        states.writeUInt32LE(serial, so + 12);
      }
    }
    if (bare6?.n) {
      for (let i = 0; i < bare6.n; i++) {
        const len = bare6.len[i];
        const t = len === 128 ? tables.x6 : tables.v6;
        flags |= TABLE_FLAG[t.name];
        const idx = t.entry6(0, bare6.addr, i * 16, len);
        if (t.rule[idx]) {
          duplicates++;
          continue;
        }
        const id = next++;
        if (id - base >= cap) throw new OpError(`the rules do not fit: the blacklist holds ${cap} (attach with a larger --max-rules)`);
        t.rule[idx] = id;
        const so = (id - base) * SIZES.rule;
        states.writeUInt32LE(RULE_ACTIVE, so + 8);
        states.writeUInt32LE(serial, so + 12);
      }
    }
    const count = next - base;
    const t1 = performance.now();
    const ids = Buffer.alloc(4 * count);
    for (let i = 0; i < count; i++) ids.writeUInt32LE(base + i, i * 4);
    batch(this.maps.bl_rules, ids, states.subarray(0, count * SIZES.rule), 4, SIZES.rule);
    if (carried.length) {
      const per = this.hitBytes();
      const cids = Buffer.alloc(4 * carried.length), vals = Buffer.alloc(per * carried.length);
      carried.forEach(({ id, hits }, i) => {
        cids.writeUInt32LE(id, i * 4);
        vals.set(hits.subarray(0, per), i * per);
        for (let o = i * per; o < (i + 1) * per; o += SIZES.hit) vals.writeBigUInt64LE(BigInt(serial), o + 24);
      });
      batch(this.maps.bl_hits, cids, vals, 4, per);
    }
    for (const [name, t] of Object.entries(tables) as [TableName, Table][]) {
      if (!t.n) continue;
      const vals = Buffer.alloc(SIZES.entry * t.n);
      for (let i = 0; i < t.n; i++) writeEntry(vals, i * SIZES.entry, t.rule[i], t.set[i], t.plen[i]);
      batch(this.table(name, gen), t.keys.subarray(0, t.n * t.ks), vals, t.ks, SIZES.entry);
    }
    if (l4ids.length) {
      const vals = Buffer.alloc(4 * l4ids.length);
      l4ids.forEach((id, i) => vals.writeUInt32LE(id, i * 4));
      batch(this.table("l4", gen), l4keys.subarray(0, l4ids.length * SIZES.l4Key), vals, SIZES.l4Key, 4);
    }
    const t2 = performance.now();
    // Two writes: first what the new generation holds, then the switch itself, so the program
    // never reads the new generation's number with the old generation's flags.
    c.nextId[gen] = next;
    c.flags[gen] = flags;
    this.writeCfg(c);
    const ts = performance.now();
    c.gen = gen;
    this.writeCfg(c);
    const t3 = performance.now();
    if (!keepOld) this.clear(gen ^ 1);
    const t4 = performance.now();
    const entries = ADDR_TABLES.reduce((a, t) => a + tables[t].n, 0) + l4ids.length;
    return { rules: count, duplicates, entries, prepareMs: t1 - t0, writeMs: t2 - t1, switchUs: (t3 - ts) * 1000, clearOldMs: keepOld ? null : t4 - t3, totalMs: t4 - t0 };
  }

  /** Rules of a generation by state, from bl_rules alone (no entries decoded: cheap at 1M):
   *  how many are live, and the ids of those past their TTL. */
  census(now: bigint, gen = this.cfg.gen): { live: number; expired: number[] } {
    const c = this.cfg, base = this.base(gen, c);
    const states = this.maps.bl_rules.lookupRange(base, c.nextId[gen] - base);
    let live = 0;
    const expired: number[] = [];
    for (let o = 0; o + SIZES.rule <= states.length; o += SIZES.rule) {
      if (!(states.readUInt32LE(o + 8) & RULE_ACTIVE)) continue;
      const exp = states.readBigUInt64LE(o);
      if (exp === 0n || exp > now) live++;
      else expired.push(base + o / SIZES.rule);
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
    if (gen === c.gen && c.nextId[gen] !== this.base(gen, c)) throw new Error("refusing to clear the live generation");
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
    // bl_rules entries of the freed ids stay: nothing points at them any more, and the next
    // user of an id writes its rule (with a new serial) before any entry points at it.
    const now = this.cfg;
    const base = this.base(gen, now);
    now.nextId[gen] = base;
    now.flags[gen] = 0;
    this.writeCfg(now);
  }
}

export interface ReplaceInput {
  rule: Rule;
  expires: bigint;
  hits?: Buffer;
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

export { ruleKey, possibleCpus };

/** A rule as BlacklistMaps.scan() sees it: its state in `states`, its match entry's key in `keys`. */
export interface RuleView {
  id: number;
  /** First id of the generation (`id - base` indexes the states). */
  base: number;
  states: Buffer;
  stateOff: number;
  allow: boolean;
  /** Where the match entry lives; null: the rule names no address. */
  table: TableName | null;
  keys: Buffer;
  keyOff: number;
  dst: boolean;
  l4: Rule["l4"];
}

const NO_L4: Rule["l4"] = { kind: "none" };

/** Where an address table's key keeps the address (blacklist_types.h): exact keys are tag,
 *  address; LPM keys are prefixlen (a u32 counting the tag's 8 bits), tag, address. */
function prefixAt(v: RuleView): { family: 4 | 6; at: number; len: number } {
  const { table, keys, keyOff: k } = v;
  const lpm = table === "v4" || table === "v6", family = table === "v4" || table === "x4" ? 4 : 6;
  return { family, at: k + (lpm ? 5 : 1), len: lpm ? keys.readUInt32LE(k) - 8 : family === 4 ? 32 : 128 };
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

