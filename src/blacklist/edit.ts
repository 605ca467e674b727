// edit.ts — one rule at a time into the live generation (add, delete), while packets keep
// coming: every write is ordered so the program never sees a half-made rule — the rule before
// the entry that points at it, flags last. A whole set goes through build.ts instead.
import { BPF_ANY, BPF_NOEXIST } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import { HAS_ALLOW, HAS_DST, HAS_GLOBAL_DENY, HAS_V4, HAS_V4_FULL, TTL_FREE, L4_ANY, L4_ANYPORT, L4_DPORT, L4_PROTO, SET_ALLOW, SET_DENY, SIZES, SLOT_RULE, SLOT_TTL, TAG_DST, writeEntry, writeL4Key, type Cfg } from "./layout.ts";
import type { Rule } from "./rules.ts";
import { CHUNK, tagOf, entryKey, l4Key, u32, exactEntry, flagsOf } from "./tables.ts";
import { maskBE, wireLE } from "./table4.ts";
import { beOf, formatPrefix4, isV4, u64 } from "./words.ts";
import { WindowFull, type BlacklistMaps, type Hits } from "./maps.ts";
import { dropNote } from "./notes.ts";

/** An IPv4 rule takes its slot: record, then TTL in bl_exp4, then the slot's flags (live). */
function slotRule(bl: BlacklistMaps, id: number, slot: number, expires: bigint, allow: boolean, c: Cfg, carry?: Hits): void {
  bl.setRec(id, expires, allow, undefined, slot);
  const handle = c.slotBase + slot;
  if (expires) bl.maps.bl_exp4.update(u32(handle), u64(expires));
  bl.t4.takeRule(slot, expires !== 0n, carry);
  if (!expires) bl.maps.bl_exp4.delete(u32(handle));
}

function newId(bl: BlacklistMaps, gen: number, c: Cfg): number {
  const id = c.nextId[gen];
  if (id >= bl.base(gen, c) + bl.capacity(c)) throw new OpError(`blacklist is full (${bl.capacity(c)} rules); attach with a larger --max-rules`);
  c.nextId[gen] = id + 1;
  return id;
}

/** Add one rule to the live generation. Returns the id and whether it was already there. */
export function addRule(bl: BlacklistMaps, r: Rule, expires: bigint, now: bigint): { id: number; existed: boolean } {
  const c = bl.cfg;
  const gen = c.gen;
  const old = bl.locate(r, gen);
  if (old) {
    const s = bl.ruleState(old);
    if (s.active && (s.expires === 0n || s.expires > now)) {
      // Same rule again: it takes the new TTL (or loses its TTL), nothing else changes.
      const slot = bl.slotOfId(old);
      if (slot >= 0) {
        if (expires) bl.maps.bl_exp4.update(u32(c.slotBase + slot), u64(expires));
        bl.t4.setFlags(slot, (bl.t4.flags(slot) & ~SLOT_TTL) | (expires ? SLOT_TTL : 0));
      }
      bl.recs.writeBigUInt64LE(expires, old * SIZES.rec);
      if (expires && c.flags[gen] & TTL_FREE) {
        c.flags[gen] &= ~TTL_FREE;
        bl.writeCfg(c);
      }
      return { id: old, existed: true };
    }
    // Expired, not yet collected: its record lets go (its entry is the new rule's now), so one
    // id, not two, answers for the prefix from here on.
    bl.recs.writeUInt32LE(0, old * SIZES.rec + 8);
    dropNote(bl.maps.bl_notes, old); // went with its rule
  }
  const tag = tagOf(r);
  if (expires) c.flags[gen] &= ~TTL_FREE; // written with the rest of cfg below
  if (r.allow) c.flags[gen] |= HAS_ALLOW;
  if (r.match.kind === "none" && !r.allow) c.flags[gen] |= HAS_GLOBAL_DENY;
  let set = r.allow ? SET_ALLOW : SET_DENY;
  let slot = -1;
  const vouch: number[] = [];
  if (isV4(r.match)) {
    const p = r.match.prefix;
    if (!bl.t4.hasGen(gen)) {
      bl.freshTable(gen); // the first IPv4 rule of this generation
      bl.publishTable(gen);
    }
    const placed = bl.t4.place(gen, wireLE(maskBE(beOf(p.addr), p.len)), p.len, tag);
    if (placed.slot < 0) {
      const where = formatPrefix4(p.addr, p.len);
      if (!bl.t4.isFlat(gen)) throw new WindowFull(`the /24 of ${where} holds more pieces than its window of the IPv4 table`);
      throw new OpError(`the IPv4 table has no room near ${where}: attach with a larger --max-rules`);
    }
    slot = placed.slot;
    if (placed.fresh) c.t4Used[gen]++;
    // The generation's first /32: bl_host4 now knows every /32 there is (this one, marked by
    // place()), also when an older xdptool made the generation (its /32s would have set
    // HAS_V4_FULL): it may vouch from here on.
    if (p.len === 32 && !(c.flags[gen] & HAS_V4_FULL)) vouch.push(gen);
    c.flags[gen] |= HAS_V4 | (p.len === 32 ? HAS_V4_FULL : 0) | (tag & TAG_DST ? HAS_DST : 0);
    if (r.l4.kind !== "none") {
      set = bl.t4.set(slot);
      if (!set) bl.t4.setSet(slot, (set = c.nextSet++));
    }
  }
  const ek = slot < 0 ? entryKey(r.match, tag) : null;
  let entry: Buffer | null = null;
  if (ek) {
    c.flags[gen] |= flagsOf(ek.table, tag);
    const v = bl.table(ek.table, gen).lookup(ek.key);
    entry = Buffer.alloc(SIZES.entry);
    if (v && exactEntry(v, ek.plen, ek.table)) entry.set(v.subarray(0, SIZES.entry));
    else writeEntry(entry, 0, 0, 0, ek.plen);
    if (r.l4.kind !== "none") {
      set = entry.readUInt32LE(4);
      if (!set) entry.writeUInt32LE((set = c.nextSet++), 4);
    }
  }
  const id = newId(bl, gen, c);
  if (slot >= 0 && r.l4.kind === "none") {
    bl.writeCfg(c, vouch);
    slotRule(bl, id, slot, expires, r.allow, c);
    return { id, existed: false };
  }
  // The rule first, the entry that points at it last: the fast path never sees a half-made rule.
  if (ek && r.l4.kind === "none") entry!.writeUInt32LE(id, 0);
  bl.writeCfg(c, vouch);
  bl.setRec(id, expires, r.allow);
  const lk = l4Key(r, set);
  if (lk) {
    bl.table("l4", gen).update(lk, u32(id), old ? BPF_ANY : BPF_NOEXIST);
    if (!r.allow) summarize(bl, gen, set, r.l4);
  }
  if (ek && entry) bl.table(ek.table, gen).update(ek.key, entry);
  return { id, existed: false };
}

/** Remove one rule from the live generation; false when it is not there. */
export function deleteRule(bl: BlacklistMaps, r: Rule): boolean {
  const c = bl.cfg, gen = c.gen;
  const id = bl.locate(r, gen);
  if (!id) return false;
  const slot = bl.slotOfId(id);
  bl.recs.writeUInt32LE(0, id * SIZES.rec + 8); // stops matching at once (a record rule)
  dropNote(bl.maps.bl_notes, id);
  if (slot >= 0) {
    bl.t4.setFlags(slot, bl.t4.flags(slot) & ~(SLOT_RULE | SLOT_TTL)); // stops matching at once
    bl.maps.bl_exp4.delete(u32(c.slotBase + slot));
    return true; // the key stays: a deleted slot, reused if the prefix comes back
  }
  if (r.l4.kind !== "none") {
    let set = r.allow ? SET_ALLOW : SET_DENY;
    if (isV4(r.match)) set = bl.t4.set(bl.slotOf(r.match, tagOf(r), gen));
    else {
      const ek = entryKey(r.match, tagOf(r));
      if (ek) set = bl.table(ek.table, gen).lookup(ek.key)!.readUInt32LE(4);
    }
    bl.table("l4", gen).delete(l4Key(r, set)!);
    if (!r.allow) summarize(bl, gen, set, r.l4);
    return true;
  }
  const ek = entryKey(r.match, tagOf(r))!;
  const t = bl.table(ek.table, gen);
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
function summarize(bl: BlacklistMaps, gen: number, set: number, l4: Rule["l4"]): void {
  const proto = l4.kind === "none" ? 0 : l4.proto;
  let anyport = 0, any = 0;
  bl.table("l4", gen).lookupBatch(CHUNK, (keys, values, n) => {
    for (let i = 0; i < n; i++) {
      const k = i * SIZES.l4Key, dir = keys[k + 5], id = values.readUInt32LE(i * 4);
      if (keys.readUInt32LE(k) !== set || dir > L4_DPORT) continue;
      if (!any || id < any) any = id;
      if (dir !== L4_PROTO && keys[k + 4] === proto && (!anyport || id < anyport)) anyport = id;
    }
  });
  const put = (key: Buffer, id: number) => (id ? bl.table("l4", gen).update(key, u32(id)) : bl.table("l4", gen).delete(key));
  const key = (p: number, dir: number) => {
    const b = Buffer.alloc(SIZES.l4Key);
    writeL4Key(b, 0, set, p, dir, 0);
    return b;
  };
  put(key(0, L4_ANY), any);
  if (l4.kind === "port") put(key(proto, L4_ANYPORT), anyport);
}

