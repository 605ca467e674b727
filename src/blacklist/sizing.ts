// sizing.ts — how big the blacklist's maps are made for a capacity (`--max-rules`), before the
// program is loaded, and the IPv4 tables made for it later (one per generation, see maps.ts).
import { BpfMap } from "../ffi/map.ts";
import type { BpfObject } from "../ffi/object.ts";
import { SIZES } from "./layout.ts";

/** IPv4 slots per generation for a capacity: load at most 0.6, so probe chains stay short. */
export function t4SizeFor(maxRules: number): number {
  let n = 1024;
  while (n * 0.6 < maxRules) n *= 2;
  return n;
}

/**
 * Entries each map holds for `maxRules` rules per generation. A kernel hash takes 16 bytes a
 * bucket for its max_entries up front (rounded up to a power of two) even when empty, so the maps
 * most lists barely use are capped well below the total: a full IPv6 /128 list takes a quarter of
 * the rules, combined (address + port) rules and TTLs on IPv4 rules an eighth.
 */
export function mapSizes(maxRules: number): Record<string, number> {
  const part = (d: number) => Math.max(65536, Math.ceil(maxRules / d));
  return {
    bl_recs: 2 * (maxRules + 1), bl_x6_0: part(4), bl_x6_1: part(4), bl_v6_0: part(4), bl_v6_1: part(4),
    bl_l4_0: part(8), bl_l4_1: part(8), bl_exp4: part(8), bl_mac_0: 65536, bl_mac_1: 65536,
  };
}

/** Size an opened (not yet loaded) blacklist object for `maxRules` rules per generation: the
 *  maps, and the template every IPv4 table put in bl_t4 must match. */
export function sizeMaps(obj: BpfObject, maxRules: number): void {
  const sizes = mapSizes(maxRules);
  for (const m of obj.maps()) {
    if (m.name in sizes) obj.setMaxEntries(m, sizes[m.name]);
    if (m.name === "bl_t4") obj.setInnerMap(m, newTable(t4SizeFor(maxRules)).fd); // held until exit
  }
}

/** An empty IPv4 table of `size` slots (struct bl_slot4), mmapable. */
export function newTable(size: number): BpfMap {
  return BpfMap.create("array", "bl_t4_table", 4, SIZES.slot4, size, BPF_F_MMAPABLE);
}

const BPF_F_MMAPABLE = 1 << 10;
