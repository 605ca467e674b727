// names.ts — the responder's --qname table, resp_name_slots (bpf/include/responder_data.h): open
// addressing in an array the program probes by the hash's own top bits, in two halves — the one in
// use, and the one the next configuration is written into before resp_config switches to it.
// Also carries the names of an older program (a hash map, resp_names, of the same keys) into the
// table of a new one during an upgrade, before the new program takes over.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BpfMap } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import { hostPath } from "../ffi/bpffs.ts";
import { randomMultiplier, suffixHash, wireName } from "./config.ts";

/** XT_RESP_NAME_BITS, XT_RESP_NAME_SLOTS, XT_RESP_NAME_PROBES (checked by test/responder.test.ts). */
export const NAME_BITS = 14, NAME_SLOTS = 1 << NAME_BITS, NAME_PROBES = 32;
const SLOT = 16; // struct xt_resp_name: len u32, pad u32, hash u64
/** How many different multipliers a configuration tries before giving up on placing its names. */
const TRIES = 16;

export interface NameKey {
  len: number;
  hash: bigint;
}

/** The half's slots with every key in place (each within NAME_PROBES of its home slot, the top
 *  NAME_BITS of its hash), or null when one does not fit there. */
export function placeNames(keys: NameKey[]): Buffer | null {
  const t = Buffer.alloc(NAME_SLOTS * SLOT);
  for (const k of keys) {
    const home = Number(k.hash >> BigInt(64 - NAME_BITS));
    let p = 0;
    for (; p < NAME_PROBES; p++) {
      const at = ((home + p) & (NAME_SLOTS - 1)) * SLOT;
      const len = t.readUInt32LE(at);
      if (len === k.len && t.readBigUInt64LE(at + 8) === k.hash) break; // the same suffix twice
      if (len !== 0) continue;
      t.writeUInt32LE(k.len, at);
      t.writeBigUInt64LE(k.hash, at + 8);
      break;
    }
    if (p === NAME_PROBES) return null;
  }
  return t;
}

/** The names' table under a fresh multiplier: each try draws another, for a set whose slots
 *  happen to crowd (a few thousand names; with a handful it never does). */
export function nameTable(qnames: string[]): { mul: bigint; slots: Buffer } {
  const wires = qnames.map(wireName);
  for (let i = 0; i < TRIES; i++) {
    const mul = randomMultiplier();
    const slots = placeNames(wires.map((w) => ({ len: w.length, hash: suffixHash(w, mul) })));
    if (slots) return { mul, slots };
  }
  throw new OpError(`--qname: ${qnames.length} names could not be placed in the responder's name table (${TRIES} multipliers tried); list fewer`);
}

/** Write a half's slots (base 0 or NAME_SLOTS), every one of them: what was there before goes. */
export function writeHalf(m: BpfMap, base: number, slots: Buffer): void {
  const keys = Buffer.alloc(4 * NAME_SLOTS);
  for (let i = 0; i < NAME_SLOTS; i++) keys.writeUInt32LE(base + i, 4 * i);
  m.updateBatch(keys, slots, NAME_SLOTS);
}

/** How many slots of the half in use hold a name. */
export function countNames(m: BpfMap, base: number): number {
  const v = m.lookupRange(base, NAME_SLOTS);
  let n = 0;
  for (let at = 0; at < v.length; at += SLOT) if (v.readUInt32LE(at)) n++;
  return n;
}

/**
 * An upgrade from a program whose names are a hash map (resp_names, layouts before 5): its keys —
 * (length, hash) under the multiplier resp_config keeps — are what the slots hold, so they go into
 * the new program's table (the half resp_config points at) before it is attached. Nothing to do
 * when there is no such pin. Throws, having changed nothing, when they do not fit.
 */
export function carryOlderNames(dir: string, table: BpfMap, base: number): void {
  const path = join(dir, "resp_names");
  if (!existsSync(path)) return;
  const old = BpfMap.pinned(path);
  let keys: NameKey[];
  try {
    keys = [...old.keys()].map((k) => ({ len: k.readUInt32LE(0), hash: k.readBigUInt64LE(8) }));
  } finally {
    old.close();
  }
  const slots = placeNames(keys);
  if (!slots) {
    throw new OpError(`the responder's ${keys.length} --qname names in ${hostPath(path)} do not fit this xdptool's name table under their multiplier: nothing was changed; \`xdptool unload\` the interface and enable the responder again`);
  }
  writeHalf(table, base, slots);
}
