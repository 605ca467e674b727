// scan.ts — reading a whole generation back: every rule in id order (list, export), totals
// (status), rules by state (gc). Read-only, and in windows (ffi/mmap.ts eachWindow): the kernel
// maps every page of a BPF array mapping at once, so mapping bl_recs and the IPv4 table whole
// would make a big `status` or `export` resident in all of them before it read a byte (docs/A-measurements.md).
//
// Records come in id order, IPv4 slots in slot order, and a slot rule's record names its slot:
// one pass over the records finds which slot each rule owns, one pass over the table copies
// those slots' keys and counters into small arrays indexed by rule, and a last pass over the
// records visits the rules in order.
import { eachWindow } from "../ffi/mmap.ts";
import { L4_DPORT, L4_PROTO, L4_SPORT, LAST_SHIFT, RULE_ACTIVE, RULE_ALLOW, RULE_SLOT, SET_ALLOW, SET_DENY, SIZES, TAG_ALLOW, TAG_DST } from "./layout.ts";
import type { Rule } from "./rules.ts";
import { ZERO, CHUNK, ADDR_TABLES, KEY_SIZE } from "./tables.ts";
import type { BlacklistMaps, Hits } from "./maps.ts";
import type { RuleView, WhereName } from "./view.ts";

const REC_WORDS = SIZES.rec / 4, SLOT_WORDS = SIZES.slot4 / 4;
const NO_L4: Rule["l4"] = { kind: "none" };

/** Each window of a generation's records: words of ids [from, from + count). */
function eachRecords(bl: BlacklistMaps, gen: number, visit: (w: Uint32Array, from: number, count: number) => void): void {
  const c = bl.cfg, base = bl.base(gen, c);
  eachWindow("bl_recs", bl.maps.bl_recs.fd, SIZES.rec, base, c.nextId[gen], visit);
}

/** Each window of a generation's IPv4 table: words of its slots [from, from + count). */
function eachSlots(bl: BlacklistMaps, gen: number, visit: (w: Uint32Array, from: number, count: number) => void): void {
  const m = bl.tableMap(gen);
  if (m) eachWindow("the IPv4 table", m.fd, SIZES.slot4, 0, bl.t4.size, visit);
}

const u64 = (lo: number, hi: number) => lo + hi * 2 ** 32;

/**
 * Visit every live rule of a generation in id order (the order rules were added): `v` is one
 * object reused for every rule (copy what you keep), so a million rules cost no million objects.
 * With `withHits`, v.hits holds the rule's counters (again one object, reused).
 */
export function scanRules(bl: BlacklistMaps, visit: (v: RuleView) => void, gen = bl.cfg.gen, withHits = false): void {
  const c = bl.cfg, base = bl.base(gen, c), n = Math.max(0, c.nextId[gen] - base);
  const size = bl.t4.size, first = gen * size;
  // Pass 1, records: which ids are live, and which slot each IPv4 rule owns.
  const live = new Uint8Array(n);
  let slotOwner: Int32Array | null = null;
  eachRecords(bl, gen, (w, from, count) => {
    for (let k = 0, o = 2; k < count; k++, o += REC_WORDS) {
      const f = w[o];
      if (!(f & RULE_ACTIVE)) continue;
      live[from + k - base] = 1;
      if (f & RULE_SLOT) (slotOwner ??= new Int32Array(size).fill(-1))[w[o + 1] - first] = from + k - base;
    }
  });
  const isLive = (id: number) => id >= base && id - base < n && live[id - base] === 1;

  // The rules that are not slots (usually few): their entries in the hash, LPM and l4 maps.
  type Owner = { table: WhereName | null; keys: Buffer; keyOff: number; len: number; dst: boolean; allow: boolean };
  const others = new Map<number, Omit<RuleView, "id" | "expires" | "hits">>();
  const owners = new Map<number, Owner>();
  owners.set(SET_DENY, { table: null, keys: ZERO, keyOff: 0, len: 0, dst: false, allow: false });
  owners.set(SET_ALLOW, { table: null, keys: ZERO, keyOff: 0, len: 0, dst: false, allow: true });
  for (const table of ADDR_TABLES) {
    const ks = KEY_SIZE[table], lpm = table === "v6";
    bl.table(table, gen).lookupBatch(CHUNK, (keys, values, count) => {
      for (let i = 0; i < count; i++) {
        const rule = values.readUInt32LE(i * SIZES.entry), set = values.readUInt32LE(i * SIZES.entry + 4);
        if (!set && !isLive(rule)) continue;
        const tag = keys[i * ks + (lpm ? 4 : 0)];
        const o: Owner = { table, keys: Buffer.from(keys.subarray(i * ks, (i + 1) * ks)), keyOff: 0, len: lpm ? keys.readUInt32LE(i * ks) - 8 : 128, dst: (tag & TAG_DST) !== 0, allow: (tag & TAG_ALLOW) !== 0 };
        if (set) owners.set(set, o);
        if (isLive(rule)) others.set(rule, { ...o, l4: NO_L4 });
      }
    });
  }
  const l4: { id: number; set: number; l4: Rule["l4"] }[] = [];
  bl.table("l4", gen).lookupBatch(CHUNK, (keys, values, count) => {
    for (let i = 0; i < count; i++) {
      const k = i * SIZES.l4Key, id = values.readUInt32LE(i * 4);
      const proto = keys[k + 4], dir = keys[k + 5], port = keys.readUInt16LE(k + 6);
      if (dir > L4_DPORT || !isLive(id)) continue; // summaries are no rules
      l4.push({ id, set: keys.readUInt32LE(k), l4: dir === L4_PROTO ? { kind: "proto", proto } : { kind: "port", proto: proto as 6 | 17, dir: dir === L4_SPORT ? "src" : "dst", port } });
    }
  });
  const setsInTable = l4.some((x) => !owners.has(x.set));

  // Pass 2, the IPv4 table: each rule slot's key and counters, by rule; and the prefixes that
  // own a set of combined rules.
  const addr = new Uint32Array(slotOwner ? n : 0), word1 = new Uint32Array(slotOwner ? n : 0);
  const last = new Uint32Array(slotOwner && withHits ? n : 0), packets = new Float64Array(last.length), bytes = new Float64Array(last.length);
  if (slotOwner || setsInTable) {
    const owner = slotOwner as Int32Array | null;
    eachSlots(bl, gen, (w, from, count) => {
      for (let k = 0, o = 0; k < count; k++, o += SLOT_WORDS) {
        if (w[o + 1] === 0) continue;
        const j = owner ? owner[from + k] : -1;
        if (j >= 0) {
          addr[j] = w[o];
          word1[j] = w[o + 1];
          if (withHits) {
            last[j] = w[o + 3];
            packets[j] = u64(w[o + 4], w[o + 5]);
            bytes[j] = u64(w[o + 6], w[o + 7]);
          }
        }
        const set = w[o + 2];
        if (setsInTable && set) {
          const tag = (w[o + 1] >>> 8) & 0x7f, key = Buffer.alloc(4);
          key.writeUInt32LE(w[o]);
          owners.set(set, { table: "t4", keys: key, keyOff: 0, len: w[o + 1] & 0xff, dst: (tag & TAG_DST) !== 0, allow: (tag & TAG_ALLOW) !== 0 });
        }
      }
    });
  }
  for (const x of l4) {
    const o = owners.get(x.set);
    if (o) others.set(x.id, { ...o, l4: x.l4 });
  }

  // Pass 3, records again, in id order: the rules.
  const addrBytes = Buffer.from(addr.buffer, addr.byteOffset, addr.byteLength);
  const hits: Hits = { packets: 0, bytes: 0, last: 0n };
  const v: RuleView = { id: 0, allow: false, table: null, keys: ZERO, keyOff: 0, dst: false, l4: NO_L4, len: 0, expires: 0n, hits };
  const lastNs = (t: number) => (t ? BigInt(t) << BigInt(LAST_SHIFT) : 0n);
  eachRecords(bl, gen, (w, from, count) => {
    for (let k = 0, o = 0; k < count; k++, o += REC_WORDS) {
      const f = w[o + 2];
      if (!(f & RULE_ACTIVE)) continue;
      const id = from + k, j = id - base;
      v.id = id;
      v.expires = w[o] || w[o + 1] ? BigInt(w[o]) | (BigInt(w[o + 1]) << 32n) : 0n;
      if (f & RULE_SLOT) {
        const w1 = word1[j], tag = (w1 >>> 8) & 0x7f;
        if (!w1) continue; // a record whose slot is gone: not a rule
        v.allow = (tag & TAG_ALLOW) !== 0;
        v.dst = (tag & TAG_DST) !== 0;
        v.table = "t4";
        v.keys = addrBytes;
        v.keyOff = j * 4;
        v.len = w1 & 0xff;
        v.l4 = NO_L4;
        if (withHits) {
          hits.packets = packets[j];
          hits.bytes = bytes[j];
          hits.last = lastNs(last[j]);
        }
      } else {
        const other = others.get(id);
        if (!other) continue; // a record no entry points at (yet): not a rule
        Object.assign(v, other);
        if (withHits) {
          hits.packets = u64(w[o + 4], w[o + 5]);
          hits.bytes = u64(w[o + 6], w[o + 7]);
          hits.last = lastNs(w[o + 3]);
        }
      }
      visit(v);
    }
  });
}

/** Live rules by action, and packets dropped by deny rules, from records and slots alone (a
 *  million rules in tens of ms: what `status` shows). */
export function summaryOf(bl: BlacklistMaps, now: bigint): { deny: number; allow: number; expired: number; dropped: number; droppedBytes: number; allowed: number; allowedBytes: number; undecidable: number } {
  const c = bl.cfg, gen = c.gen, t = Number(now), size = bl.t4.size, first = gen * size;
  let deny = 0, allow = 0, expired = 0;
  const sums = [0, 0, 0, 0]; // deny packets, deny bytes, allow packets, allow bytes
  let counted: Uint8Array | null = null; // slots of live rules (1 deny, 2 allow): their hits are in the table
  eachRecords(bl, gen, (w, _from, count) => {
    for (let k = 0, o = 0; k < count; k++, o += REC_WORDS) {
      const f = w[o + 2];
      if (!(f & RULE_ACTIVE)) continue;
      const exp = u64(w[o], w[o + 1]); // ns since boot: exact for 104 days, then within ns
      if (exp && exp <= t) { expired++; continue; }
      const a = f & RULE_ALLOW ? 1 : 0;
      if (a) allow++;
      else deny++;
      if (f & RULE_SLOT) (counted ??= new Uint8Array(size))[w[o + 3] - first] = 1 + a;
      else {
        sums[2 * a] += u64(w[o + 4], w[o + 5]);
        sums[2 * a + 1] += u64(w[o + 6], w[o + 7]);
      }
    }
  });
  if (counted) {
    const mark = counted as Uint8Array;
    eachSlots(bl, gen, (w, from, count) => {
      for (let k = 0, o = 0; k < count; k++, o += SLOT_WORDS) {
        const m = mark[from + k];
        if (!m) continue;
        sums[2 * (m - 1)] += u64(w[o + 4], w[o + 5]);
        sums[2 * (m - 1) + 1] += u64(w[o + 6], w[o + 7]);
      }
    });
  }
  const u = bl.maps.bl_undecided.lookup(ZERO);
  return { deny, allow, expired, dropped: sums[0], droppedBytes: sums[1], allowed: sums[2], allowedBytes: sums[3], undecidable: u ? Number(u.readBigUInt64LE(0)) : 0 };
}

/** Rules of a generation by state (no entries decoded: cheap at 1M): how many are live, and
 *  the ids of those past their TTL. */
export function censusOf(bl: BlacklistMaps, now: bigint, gen = bl.cfg.gen): { live: number; expired: number[] } {
  let live = 0;
  const expired: number[] = [], t = Number(now);
  eachRecords(bl, gen, (w, from, count) => {
    for (let k = 0, o = 0; k < count; k++, o += REC_WORDS) {
      if (!(w[o + 2] & RULE_ACTIVE)) continue;
      const exp = u64(w[o], w[o + 1]);
      if (exp === 0 || exp > t) live++;
      else expired.push(from + k);
    }
  });
  return { live, expired };
}
