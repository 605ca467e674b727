// names.ts — the responder's --qname table, resp_name_table (bpf/include/responder_data.h): open
// addressing in an array the program probes by the hash's own top bits, in two halves — the one in
// use, and the one the next configuration is written into before resp_config switches to it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BpfMap } from "../ffi/map.ts";
import { OpError } from "../errors.ts";
import { hostPath, pinDir } from "../ffi/bpffs.ts";
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

/** The keys of names in wire format under a multiplier: each one's length and suffix hash. */
function nameKeys(wires: Uint8Array[], mul: bigint): NameKey[] {
  return wires.map((w) => ({ len: w.length, hash: suffixHash(w, mul) }));
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
    const slots = placeNames(nameKeys(wires, mul));
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

/** The names as text (resp_qnames' keys: lowercased, zero-padded), sorted. */
export function qnameText(m: BpfMap): string[] {
  return [...m.keys()].map((k) => k.toString("latin1", 0, k.indexOf(0) < 0 ? k.length : k.indexOf(0))).sort();
}

/**
 * An upgrade from a program whose suffix hash was another (layout 5's resp_name_slots, byte at a
 * time; resp_names, a hash map, before it): its names, kept as text in resp_qnames, are hashed
 * anew under the multiplier resp_config keeps and placed in the half it points at — in the new
 * program's own table, before that program is attached; the running one still reads its own
 * meanwhile, and resp_config is not touched. Nothing to do without older names. Throws, having
 * changed nothing, when they cannot be carried.
 */
export function carryOlderNames(ifname: string, table: BpfMap, mul: bigint, base: number): void {
  const dir = pinDir(ifname);
  const older = ["resp_name_slots", "resp_names"].find((n) => existsSync(join(dir, n)));
  if (!older) return;
  const text = join(dir, "resp_qnames");
  const names = existsSync(text) ? BpfMap.withPinned(text, qnameText) : [];
  // Enabling the responder again writes its names anew, under a multiplier of its own choosing.
  const again = `\`xdptool responder enable ${ifname} --qname …\` with the same names upgrades it with them`;
  if (names.length === 0) {
    const hashes = BpfMap.withPinned(join(dir, older), (m) => (older === "resp_names" ? [...m.keys()].length : countNames(m, base ? NAME_SLOTS : 0)));
    if (hashes === 0) return;
    throw new OpError(`${ifname}: the responder's ${hashes} --qname names are kept only as hashes of an older xdptool (${hostPath(join(dir, older))}), which this one cannot carry over: nothing was changed; ${again}`);
  }
  const slots = placeNames(nameKeys(names.map(wireName), mul));
  if (!slots) throw new OpError(`${ifname}: the responder's ${names.length} --qname names do not fit this xdptool's name table under their multiplier: nothing was changed; ${again}`);
  writeHalf(table, base ? NAME_SLOTS : 0, slots);
}
