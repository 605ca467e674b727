// words.ts — small conversions the blacklist's map code shares: IPv4 rules, addresses as
// numbers, u64 keys, counters as bl_rec words.
import { LAST_SHIFT } from "./layout.ts";
import type { Match } from "./rules.ts";
import type { SlotCounters as Hits } from "./table4.ts";

export function isV4(m: Match): m is Extract<Match, { kind: "prefix" }> {
  return m.kind === "prefix" && m.prefix.family === 4;
}

export function beOf(a: Uint8Array): number {
  return ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
}

export function formatPrefix4(a: Uint8Array, len: number): string {
  return `${a.join(".")}/${len}`;
}

export function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

export function writeCounters(b: Buffer, off: number, h: Hits): void {
  b.writeUInt32LE(h.last ? Number(h.last >> BigInt(LAST_SHIFT)) >>> 0 : 0, off);
  b.writeUInt32LE(h.packets >>> 0, off + 4);
  b.writeUInt32LE(Math.floor(h.packets / 2 ** 32), off + 8);
  b.writeUInt32LE(h.bytes >>> 0, off + 12);
  b.writeUInt32LE(Math.floor(h.bytes / 2 ** 32), off + 16);
}
