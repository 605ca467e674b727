// table4.ts — the IPv4 tables (one per generation, in bl_t4) and their length bitmaps (bl_len4)
// from user space, through mmap: placing a million prefixes is memory writes, no syscalls.
// Layout and probing rules: bpf/include/blacklist_types.h (struct bl_slot4) and blacklist_v4.h
// (bl_slot_match, bl_hash4). Slots are numbered across generations: slot i of gen g is
// g * size + i (the program's handle for it adds cfg.slot_base).
import { bulkPlace4 } from "../ffi/bulk.ts";
import { H24_HOST, H24_PIECES, HOST4_U32, LAST_SHIFT, SLOT_RULE, SLOT_TTL, T4_PROBES, T4_WINDOW, TAG_USED } from "./layout.ts";

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** bl_hash4 in blacklist_v4.h: `a` is the address as the kernel loads it (wire bytes, little-endian);
 *  /24–/31 prefixes have their homes in their /24's window unless the generation is flat. */
export function hash4(a: number, lentag: number, flat = false): number {
  const len = lentag & 0xff, h = fmix32((a ^ Math.imul(lentag, 0x9e3779b1)) >>> 0);
  if (flat || len < 24 || len > 31) return h;
  const w = fmix32(((a & 0x00ffffff) ^ Math.imul(lentag >>> 8, 0x9e3779b1)) >>> 0);
  return ((w & ~(T4_WINDOW - 1)) | (h & (T4_WINDOW - 1))) >>> 0;
}

/** An address written most significant octet first (parse.ts Bare4) → as the kernel loads it. */
export function wireLE(be: number): number {
  return (((be & 0xff) << 24) | ((be >>> 8) & 0xff) << 16 | ((be >>> 16) & 0xff) << 8 | (be >>> 24)) >>> 0;
}

/** The prefix's network address (host bits cleared), most significant octet first. */
export function maskBE(be: number, len: number): number {
  return len === 0 ? 0 : (be & (0xffffffff << (32 - len))) >>> 0;
}

/** 8 u32 words a slot: addr, len|tag<<8|flags<<16, set, last, packets lo/hi, bytes lo/hi. */
const W = 8;

export interface SlotCounters {
  packets: number;
  bytes: number;
  /** CLOCK_MONOTONIC_COARSE ns of the last hit, 0 = never. */
  last: bigint;
}

/** No room within T4_PROBES slots of a key's home. */
export class TableFull extends Error {}

export class Table4 {
  /** Each generation's table as mapped (null: none, or not mapped yet: see setGen). */
  private readonly gens: (Uint32Array | null)[] = [null, null];
  private readonly loaders: ((() => Buffer) | null)[] = [null, null];
  private lensWords: Uint32Array | null = null;
  private hostWords: Uint32Array | null = null;

  /** `size`: slots per generation (a power of two). `len4` maps bl_len4 and `host4` bl_host4
   *  when first needed: a read-only scan (status, export) never maps what it does not touch
   *  (every mapped page of a BPF array counts as resident at once). */
  constructor(private readonly len4: () => Buffer, private readonly host4: () => Buffer, readonly size: number) {}

  /** bl_host4 as u32 words: generation g's bits for a /24 are in word g * HOST4_U32 + (/24 >> 4). */
  private get hosts(): Uint32Array {
    if (!this.hostWords) {
      const b = this.host4();
      this.hostWords = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
    }
    return this.hostWords;
  }

  /** bl_host4: what the /24 of a /25-/32 (`a` wire-LE) holds. Set before the entry can match. */
  private markHost(gen: number, a: number, len: number): void {
    const a24 = wireLE(a) >>> 8; // wireLE is its own inverse: most significant octet first
    this.hosts[gen * HOST4_U32 + (a24 >>> 4)] |= (len === 32 ? H24_HOST : H24_PIECES) << ((a24 & 15) * 2);
  }

  private get lens(): Uint32Array {
    if (!this.lensWords) {
      const b = this.len4();
      this.lensWords = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
    }
    return this.lensWords;
  }

  /** Generations built BL_T4_FLAT (no /24 windows; bl_cfg.flags says so to the program). */
  private readonly flat = [false, false];

  setFlat(gen: number, on: boolean): void {
    this.flat[gen] = on;
  }

  isFlat(gen: number): boolean {
    return this.flat[gen];
  }

  /** A generation's table (`load` maps it, called on first use) or none. */
  setGen(gen: number, load: (() => Buffer) | null): void {
    this.loaders[gen] = load;
    this.gens[gen] = null;
  }

  private g(gen: number): Uint32Array | null {
    if (!this.gens[gen] && this.loaders[gen]) {
      const buf = this.loaders[gen]!();
      this.gens[gen] = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
    }
    return this.gens[gen];
  }

  hasGen(gen: number): boolean {
    return this.loaders[gen] !== null;
  }

  /** The words of the table holding a slot, and the slot's first word in it. */
  private at(slot: number): [Uint32Array, number] {
    const gen = slot >= this.size ? 1 : 0;
    return [this.g(gen)!, (slot - gen * this.size) * W];
  }

  /** Slot of a key in generation `gen`, or -1. `a` is wire-LE, masked. */
  find(gen: number, a: number, len: number, tag: number): number {
    const w = this.g(gen);
    if (!w) return -1;
    const lt = len | ((tag | TAG_USED) << 8), h = hash4(a, lt, this.flat[gen]), mask = this.size - 1;
    for (let j = 0; j < T4_PROBES; j++) {
      const i = (h + j) & mask, o = i * W;
      const w1 = w[o + 1];
      if (w1 === 0 && w[o] === 0) return -1;
      if (w[o] === a && (w1 & 0xffff) === lt) return gen * this.size + i;
    }
    return -1;
  }

  /**
   * The slot for a key: the existing one, or a new empty one with the key written (no rule, no
   * set: matches nothing yet). -1 when no empty slot lies within T4_PROBES of the key's home.
   * Deleted slots of other keys are not reused: the program might be reading them right now.
   */
  place(gen: number, a: number, len: number, tag: number): { slot: number; fresh: boolean } {
    const w = this.g(gen)!;
    const lt = len | ((tag | TAG_USED) << 8), h = hash4(a, lt, this.flat[gen]), mask = this.size - 1;
    for (let j = 0; j < T4_PROBES; j++) {
      const i = (h + j) & mask, o = i * W;
      const w1 = w[o + 1];
      if (w1 === 0 && w[o] === 0) {
        // Address first, then length and tag: a half-written key has tag 0, which no lookup uses.
        w.fill(0, o + 2, o + W);
        w[o] = a;
        w[o + 1] = lt;
        this.markLength(gen, a, len, tag);
        return { slot: gen * this.size + i, fresh: true };
      }
      if (w[o] === a && (w1 & 0xffff) === lt) return { slot: gen * this.size + i, fresh: false };
    }
    return { slot: -1, fresh: false };
  }

  /**
   * place(), Robin Hood style, for a generation no program reads (replace builds the idle one):
   * an entry further from its home slot than the one in its way takes that slot and moves the
   * other on. At 60% load this keeps every key within ~13 slots of home (plain linear probing:
   * 50+, past what the program looks at). Entries move: a caller must not keep slot numbers
   * until the whole build is done (maps.ts replace() links records to slots at the end).
   */
  placeRH(gen: number, a: number, len: number, tag: number): { slot: number; fresh: boolean } {
    const lt = len | ((tag | TAG_USED) << 8), mask = this.size - 1, first = gen * this.size, w = this.g(gen)!;
    let pos = hash4(a, lt, this.flat[gen]) & mask, d = 0;
    for (;; pos = (pos + 1) & mask, d++) {
      const o = pos * W;
      if (w[o + 1] === 0 && w[o] === 0) break;
      if (w[o] === a && (w[o + 1] & 0xffff) === lt) return { slot: first + pos, fresh: false };
      if (((pos - this.home(w, o, gen)) & mask) < d) break; // the key would sit here: it is not further on
      if (d > T4_PROBES) throw new TableFull();
    }
    const cur = this.carry;
    cur.fill(0);
    cur[0] = a;
    cur[1] = lt;
    let mine = -1;
    for (;; pos = (pos + 1) & mask, d++) {
      if (d >= T4_PROBES) throw new TableFull();
      const o = pos * W;
      if (w[o + 1] === 0 && w[o] === 0) {
        w.set(cur, o);
        if (mine < 0) mine = pos;
        break;
      }
      const od = (pos - this.home(w, o, gen)) & mask;
      if (od < d) {
        this.swap.set(w.subarray(o, o + W));
        w.set(cur, o);
        cur.set(this.swap);
        if (mine < 0) mine = pos;
        d = od;
      }
    }
    this.markLength(gen, a, len, tag);
    return { slot: first + mine, fresh: true };
  }

  /**
   * Many tag-0 plain rules (bare source prefixes: the bulk of big lists) into a generation's
   * table that is still EMPTY: sorted by home slot and laid down in that order — the layout Robin
   * Hood converges to — so the table is written once, front to back. In C (libbpf/t4bulk.c, the
   * program's own hash): the same loop in TypeScript runs once per process, before the JIT has
   * optimized it, and was half of a big import (docs/A-measurements.md). Key i becomes a live rule whose slot's
   * word 3 holds ids[i] (replace() links records at the end); a key seen before gets ids[i] = 0.
   * Keys whose run would pass the table's end go through placeRH afterwards (it wraps). Returns
   * the slots taken; TableFull when a key would land further than T4_PROBES from its home.
   */
  bulkRules(gen: number, a: Uint32Array, len: Uint8Array, n: number, ids: Uint32Array): number {
    const lens = this.lens.subarray(gen * 4 * 65536 * 2, (gen * 4 + 1) * 65536 * 2); // tag 0
    for (let i = 0; i < n; i++) if (len[i] > 24) this.markHost(gen, a[i], len[i]); // (t4bulk.c marks bl_len4 only)
    const r = bulkPlace4(this.g(gen)!, this.size, lens, a, len, n, ids, this.flat[gen]);
    if ("error" in r) {
      if (r.error === "too-far") throw new TableFull();
      throw new Error("out of memory placing the IPv4 rules");
    }
    let taken = r.taken;
    for (const i of r.late) {
      const p = this.placeRH(gen, a[i], len[i], 0);
      if (!p.fresh) {
        ids[i] = 0;
        continue;
      }
      this.takeRule(p.slot, false);
      this.setWord3(p.slot, ids[i]);
      taken++;
    }
    return taken;
  }

  /** After a build: each rule slot's word 3 (its rule id, see maps.ts replace) handed to `link`,
   *  which returns what the word holds from then on (the last-hit time). */
  linkRules(gen: number, link: (slot: number, id: number, flags: number) => number): void {
    const w = this.g(gen);
    if (!w) return;
    for (let i = 0; i < this.size; i++) {
      const f = w[i * W + 1] >>> 16;
      if (f & SLOT_RULE) w[i * W + 3] = link(gen * this.size + i, w[i * W + 3], f);
    }
  }

  private readonly carry = new Uint32Array(W);
  private readonly swap = new Uint32Array(W);

  /** Home slot (within its generation) of the entry at word offset o. */
  private home(w: Uint32Array, o: number, gen: number): number {
    return hash4(w[o], w[o + 1] & 0xffff, this.flat[gen]) & (this.size - 1);
  }

  /** bl_len4: the length occurs in every /16 the prefix overlaps. */
  private markLength(gen: number, a: number, len: number, tag: number): void {
    if (len > 24) this.markHost(gen, a, len);
    const hi16 = ((a & 0xff) << 8) | ((a >>> 8) & 0xff);
    const base = (gen * 4 + (tag & 3)) * 65536, word = len >>> 5, bit = 1 << (len & 31);
    if (len >= 16) {
      this.lens[(base + hi16) * 2 + word] |= bit;
      return;
    }
    const span = 1 << (16 - len), from = hi16 & ~(span - 1);
    for (let k = from; k < from + span; k++) this.lens[(base + k) * 2 + word] |= bit;
  }

  flags(slot: number): number {
    const [w, o] = this.at(slot);
    return w[o + 1] >>> 16;
  }

  /** Set the slot's flags (the key's low half kept): one 32-bit store, seen whole by the program. */
  setFlags(slot: number, flags: number): void {
    const [w, o] = this.at(slot);
    w[o + 1] = (w[o + 1] & 0xffff) | (flags << 16);
  }

  set(slot: number): number {
    const [w, o] = this.at(slot);
    return w[o + 2];
  }

  setSet(slot: number, set: number): void {
    const [w, o] = this.at(slot);
    w[o + 2] = set;
  }

  /** A rule takes the slot: counters from zero (or carried over), then the flags that make it live. */
  takeRule(slot: number, ttl: boolean, carry?: SlotCounters): void {
    const [w, o] = this.at(slot);
    w.fill(0, o + 3, o + W);
    if (carry) {
      w[o + 3] = Number(carry.last >> BigInt(LAST_SHIFT)) >>> 0;
      w[o + 4] = carry.packets >>> 0;
      w[o + 5] = Math.floor(carry.packets / 2 ** 32);
      w[o + 6] = carry.bytes >>> 0;
      w[o + 7] = Math.floor(carry.bytes / 2 ** 32);
    }
    this.setFlags(slot, (this.flags(slot) & ~(SLOT_RULE | SLOT_TTL)) | SLOT_RULE | (ttl ? SLOT_TTL : 0));
  }

  counters(slot: number): SlotCounters {
    const [w, o] = this.at(slot), last = w[o + 3];
    return { packets: w[o + 4] + w[o + 5] * 2 ** 32, bytes: w[o + 6] + w[o + 7] * 2 ** 32, last: last ? BigInt(last) << BigInt(LAST_SHIFT) : 0n };
  }

  /** Word 3 of a slot: the last-hit time for the program; during a build, a rule id (replace()). */
  word3(slot: number): number {
    const [w, o] = this.at(slot);
    return w[o + 3];
  }

  setWord3(slot: number, v: number): void {
    const [w, o] = this.at(slot);
    w[o + 3] = v;
  }

  /** Empty one generation's bitmaps (its table is dropped, or was made empty). */
  clearLengths(gen: number): void {
    this.lens.fill(0, gen * 4 * 65536 * 2, (gen + 1) * 4 * 65536 * 2);
    this.hosts.fill(0, gen * HOST4_U32, (gen + 1) * HOST4_U32);
  }
}
