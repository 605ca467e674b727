// view.ts — a rule as a scan of the maps sees it (where its key bytes are), and its match read
// back from those bytes without building objects: what list and export print a million times.
import { formatIPv4, formatIPv6, formatMac } from "../net/addr.ts";
import type { Match, Rule } from "./rules.ts";
import type { TableName } from "./tables.ts";
import type { SlotCounters as Hits } from "./table4.ts";

/** The ipv4 table sits beside the others in scans; "t4" names it in a RuleView. */
export type WhereName = TableName | "t4";

/** A rule as BlacklistMaps.scan() sees it: where its match entry's key bytes are. */
export interface RuleView {
  id: number;
  allow: boolean;
  /** Where the match entry lives; null: the rule names no address. */
  table: WhereName | null;
  keys: Buffer;
  keyOff: number;
  /** Prefix length of an address match. */
  len: number;
  dst: boolean;
  l4: Rule["l4"];
  /** CLOCK_MONOTONIC_COARSE ns, 0n = never. */
  expires: bigint;
  /** The rule's counters, when the scan was asked for them. */
  hits?: Hits;
}

/** Where an address table's key keeps the address (blacklist_types.h): a slot and exact keys
 *  start with the address (after a tag byte for exact keys); LPM keys are prefixlen, tag, address. */
function prefixAt(v: RuleView): { family: 4 | 6; at: number; len: number } {
  const { table, keyOff: k } = v;
  if (table === "t4") return { family: 4, at: k, len: v.len };
  return { family: 6, at: k + (table === "v6" ? 5 : 1), len: v.len };
}

export function matchOf(v: RuleView): Match {
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
