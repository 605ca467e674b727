// layout.ts — bpf/include/blacklist_types.h as bytes (checked by test/blacklist.test.ts).
import type { Prefix } from "../net/addr.ts";

export const TAG_DST = 1, TAG_ALLOW = 2;
export const SET_DENY = 0, SET_ALLOW = 1;
export const L4_PROTO = 0, L4_SPORT = 1, L4_DPORT = 2, L4_ANYPORT = 3, L4_ANY = 4;
export const RULE_ACTIVE = 1, RULE_ALLOW = 2, RULE_SLOT = 4;
export const TAG_USED = 0x80, SLOT_RULE = 1, SLOT_TTL = 2, T4_PROBES = 32, T4_WINDOW = 32, LAST_SHIFT = 24;
export const HAS_MAC = 1, HAS_GLOBAL_DENY = 2, HAS_ALLOW = 4, HAS_V4 = 8, HAS_V6_EXACT = 32, HAS_V6_PREFIX = 64, HAS_DST = 128, HAS_V4_FULL = 256, T4_FLAT = 512, TTL_FREE = 1024;
/** bl_host4: u32 words per generation (two bits per /24: H24_HOST, H24_PIECES); the stamps
 *  follow both generations' bits (2 × HOST4_U32 u32 words = HOST4_U32 u64 entries), at u64
 *  entry STAMP4 + gen. */
export const HOST4_U32 = 1 << 20, H24_HOST = 1, H24_PIECES = 2, STAMP4 = HOST4_U32;

export const SIZES = { v6Key: 24, x6Key: 20, macKey: 8, entry: 16, l4Key: 8, slot4: 32, rec: 32, cfg: 44 } as const;
/** Field offsets the tests compare with offsetof() in C. */
export const OFFSETS = {
  "bl_v6_key.tag": 4, "bl_v6_key.addr": 5, "bl_mac_key.mac": 1, "bl_x6_key.addr": 1,
  "bl_entry.rule": 0, "bl_entry.set": 4, "bl_entry.plen": 8, "bl_l4_key.proto": 4, "bl_l4_key.dir": 5, "bl_l4_key.port": 6,
  "bl_slot4.addr": 0, "bl_slot4.len": 4, "bl_slot4.tag": 5, "bl_slot4.flags": 6, "bl_slot4.set": 8, "bl_slot4.last": 12, "bl_slot4.packets": 16, "bl_slot4.bytes": 24,
  "bl_rec.expires": 0, "bl_rec.flags": 8, "bl_rec.last": 12, "bl_rec.packets": 16, "bl_rec.bytes": 24,
  "bl_cfg.gen": 0, "bl_cfg.next_set": 4, "bl_cfg.half": 8, "bl_cfg.flags": 12, "bl_cfg.next_id": 20, "bl_cfg.t4_size": 28, "bl_cfg.slot_base": 32, "bl_cfg.t4_used": 36,
} as const;

export const MAP_NAMES = ["bl_cfg", "bl_undecided", "bl_recs", "bl_t4", "bl_len4", "bl_exp4", "bl_v6_0", "bl_v6_1", "bl_x6_0", "bl_x6_1", "bl_mac_0", "bl_mac_1", "bl_l4_0", "bl_l4_1", "bl_notes", "bl_host4"] as const;

/** Maps later xdptools added, and what each is for: pins from before lack them, and a re-attach
 *  adds them with the rules kept (store.ts openPinned says so, stage.ts reloads). */
export const NEWER_MAPS = { bl_notes: "bl_notes map for rule comments", bl_host4: "bl_host4 map of the /24s holding listed hosts" } as const;

/** Key and value sizes of each map (bpf/include/blacklist_maps.h): a pin that differs is not ours. */
export const MAP_SHAPES: Record<(typeof MAP_NAMES)[number], [number, number]> = {
  bl_cfg: [4, SIZES.cfg], bl_undecided: [4, 8], bl_recs: [4, SIZES.rec], bl_t4: [4, 4], bl_len4: [4, 8], bl_exp4: [4, 8],
  bl_v6_0: [SIZES.v6Key, SIZES.entry], bl_v6_1: [SIZES.v6Key, SIZES.entry], bl_x6_0: [SIZES.x6Key, SIZES.entry], bl_x6_1: [SIZES.x6Key, SIZES.entry],
  bl_mac_0: [SIZES.macKey, SIZES.entry], bl_mac_1: [SIZES.macKey, SIZES.entry], bl_l4_0: [SIZES.l4Key, 4], bl_l4_1: [SIZES.l4Key, 4],
  bl_notes: [4, 128], bl_host4: [4, 8],
};

/** A rule's comment: at most NOTE_MAX bytes of UTF-8 (struct bl_note); at most NOTES of them. */
export const NOTE_MAX = 128, NOTES = 65536;

export interface Cfg {
  gen: number;
  nextSet: number;
  half: number;
  flags: [number, number];
  nextId: [number, number];
  t4Size: number;
  slotBase: number;
  t4Used: [number, number];
}

export function decodeCfg(b: Uint8Array): Cfg {
  const v = Buffer.from(b.buffer, b.byteOffset, b.length);
  const u = (i: number) => v.readUInt32LE(i * 4);
  return { gen: u(0), nextSet: u(1), half: u(2), flags: [u(3), u(4)], nextId: [u(5), u(6)], t4Size: u(7), slotBase: u(8), t4Used: [u(9), u(10)] };
}

export function encodeCfg(c: Cfg): Buffer {
  const b = Buffer.alloc(SIZES.cfg);
  [c.gen, c.nextSet, c.half, c.flags[0], c.flags[1], c.nextId[0], c.nextId[1], c.t4Size, c.slotBase, c.t4Used[0], c.t4Used[1]].forEach((x, i) => b.writeUInt32LE(x >>> 0, i * 4));
  return b;
}

/** Write an LPM key (IPv6) at `off`. */
export function writePrefixKey(b: Buffer, off: number, tag: number, p: Prefix): void {
  b.writeUInt32LE(8 + p.len, off);
  b[off + 4] = tag;
  b.set(p.addr, off + 5);
}

export function writeMacKey(b: Buffer, off: number, tag: number, mac: Uint8Array): void {
  b[off] = tag;
  b.set(mac, off + 1);
}

export function writeEntry(b: Buffer, off: number, rule: number, set: number, plen: number): void {
  b.writeUInt32LE(rule, off);
  b.writeUInt32LE(set, off + 4);
  b.writeUInt32LE(plen, off + 8);
}

export function writeL4Key(b: Buffer, off: number, set: number, proto: number, dir: number, port: number): void {
  b.writeUInt32LE(set, off);
  b[off + 4] = proto;
  b[off + 5] = dir;
  b.writeUInt16LE(port, off + 6);
}

/** A bl_rec with zeroed counters. */
export function writeRec(b: Buffer, off: number, expires: bigint, flags: number): void {
  b.writeBigUInt64LE(expires, off);
  b.writeUInt32LE(flags, off + 8);
  b.fill(0, off + 12, off + SIZES.rec);
}
