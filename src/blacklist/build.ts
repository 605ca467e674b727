// build.ts — a whole rule set written into the idle generation, then made live with one write
// of bl_cfg.gen (BlacklistMaps.replace): packets see the old set or the new one, never a mix.
// The IPv4 prefixes go into a fresh table (Robin Hood, or one sorted pass for bare prefixes),
// the other rules into the hash and LPM maps by batch, the records last.

import { BpfMap } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import { HAS_ALLOW, HAS_DST, HAS_GLOBAL_DENY, HAS_V4, HAS_V4_FULL, T4_FLAT, TTL_FREE, L4_ANY, L4_ANYPORT, L4_DPORT, L4_PROTO, L4_SPORT, RULE_ACTIVE, RULE_SLOT, SET_ALLOW, SET_DENY, SIZES, SLOT_RULE, SLOT_TTL, TAG_DST, writeEntry, writeL4Key } from "./layout.ts";
import type { Rule } from "./rules.ts";
import type { Bare4, Bare6 } from "./parse.ts";
import { tagOf, ADDR_TABLES, tableOf, flagsOf, Table, batch, type TableName } from "./tables.ts";
import { TableFull, maskBE, wireLE } from "./table4.ts";
import { beOf, isV4 } from "./words.ts";
import type { BlacklistMaps, Hits } from "./maps.ts";

export function buildGeneration(blm: BlacklistMaps, rules: ReplaceInput[], bare4: Bare4 | undefined, bare6: Bare6 | undefined, keepOld: boolean, flat: boolean, notes?: (gen: number) => void): ReplaceStats {
  const t0 = performance.now();
  const c = blm.cfg;
  const gen = c.gen ^ 1;
  blm.clear(gen); // normally empty already; a crash mid-replace (or a windowed try) may have left something
  const cc = blm.cfg;
  blm.freshTable(gen); // published after the build, switched to after that
  blm.t4.setFlat(gen, flat);
  const base = blm.base(gen, cc), cap = blm.capacity(cc);
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
  const t4 = blm.t4;
  const recWords = new Uint32Array(blm.recs.buffer, blm.recs.byteOffset, blm.recs.length >>> 2);
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
    blm.setRec(id, expires, allow, hits);
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
        blm.setRec(id, expires, r.allow, undefined, 0);
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
  const room: [string, number, BpfMap][] = [["IPv6 prefixes", tables.v6.n, blm.table("v6", gen)], ["IPv6 addresses", tables.x6.n, blm.table("x6", gen)], ["MAC addresses", tables.mac.n, blm.table("mac", gen)], ["rules with a port or protocol (and their summaries)", l4ids.length + summaries.size, blm.table("l4", gen)]];
  for (const [what, n, m] of room) if (n > m.info.maxEntries) throw new OpError(`the rules do not fit: ${n} ${what}, the blacklist holds ${m.info.maxEntries} (attach with a larger --max-rules)`);
  // Every IPv4 rule has its final slot now: link records to slots, TTLs to slot handles.
  const exp4: { id: number; expires: bigint }[] = [];
  t4.linkRules(gen, (slot, id0, f) => {
    const id = id0 & BULK ? bulkIds![id0 & ~BULK] : id0;
    recWords[id * 8 + 3] = slot;
    if (f & SLOT_TTL) exp4.push({ id: cc.slotBase + slot, expires: expOf.get(id)! });
    return lastOf.size ? lastOf.get(id) ?? 0 : 0;
  });
  if (exp4.length > blm.maps.bl_exp4.info.maxEntries) throw new OpError(`the rules do not fit: ${exp4.length} IPv4 rules with a TTL, the blacklist holds ${blm.maps.bl_exp4.info.maxEntries} (attach with a larger --max-rules)`);
  const t1 = performance.now();
  if (exp4.length) {
    const ks = Buffer.alloc(4 * exp4.length), vs = Buffer.alloc(8 * exp4.length);
    exp4.forEach((e, i) => { ks.writeUInt32LE(e.id, i * 4); vs.writeBigUInt64LE(e.expires, i * 8); });
    batch(blm.maps.bl_exp4, ks, vs, 4, 8);
  }
  for (const [name, t] of Object.entries(tables) as [TableName, Table][]) {
    if (!t.n) continue;
    const vals = Buffer.alloc(SIZES.entry * t.n);
    for (let i = 0; i < t.n; i++) writeEntry(vals, i * SIZES.entry, t.rule[i], t.set[i], t.plen[i]);
    batch(blm.table(name, gen), t.keys.subarray(0, t.n * t.ks), vals, t.ks, SIZES.entry);
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
    batch(blm.table("l4", gen), all, vals, SIZES.l4Key, 4);
  }
  const t2 = performance.now();
  blm.publishTable(gen);
  // Two writes: first what the new generation holds, then the switch itself, so the program
  // never reads the new generation's number with the old generation's flags.
  const now = blm.cfg;
  now.nextId[gen] = next;
  now.flags[gen] = flags | (flat ? T4_FLAT : 0) | (rules.some((x) => x.expires) ? 0 : TTL_FREE);
  now.t4Used[gen] = used;
  now.nextSet = cc.nextSet;
  blm.writeCfg(now);
  notes?.(gen); // comments by the new ids (never read by the program): in before the switch
  const ts = performance.now();
  now.gen = gen;
  blm.writeCfg(now);
  const t3 = performance.now();
  if (!keepOld) blm.clear(gen ^ 1);
  const t4done = performance.now();
  const count = next - base;
  const entries = ADDR_TABLES.reduce((a, t) => a + tables[t].n, 0) + l4ids.length + used;
  return { rules: count, duplicates, entries, prepareMs: t1 - t0, writeMs: t2 - t1, switchUs: (t3 - ts) * 1000, clearOldMs: keepOld ? null : t4done - t3, totalMs: t4done - t0 };
}

/** Live rules by action, and packets dropped by deny rules, from records and slots alone (a
 *  million rules in tens of ms: what `status` shows). */

/** Marks a slot's provisional id during a build (see replace). */
const BULK = 0x80000000;

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
