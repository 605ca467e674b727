// bulk.ts — libbpf/t4bulk.c: a whole list of IPv4 prefixes laid into an empty blacklist table.
import { bpf } from "./native.ts";

/** Result of xt_t4_bulk: slots taken and the keys left for the caller (their run passed the
 *  table's end), or why it stopped. */
export type BulkPlaced = { taken: number; late: Uint32Array } | { error: "too-far" | "no-memory" };

/**
 * Keys i < n (address as the program loads it, length; tag 0) into `table` (an empty
 * generation's slots, `size` of them) and its length bitmap `lens` (that generation's tag-0
 * words). A placed key's slot holds ids[i] in word 3; a key seen before gets ids[i] = 0.
 */
export function bulkPlace4(table: Uint32Array, size: number, lens: Uint32Array, a: Uint32Array, len: Uint8Array, n: number, ids: Uint32Array, flat: boolean): BulkPlaced {
  const late = new Uint32Array(Math.max(1, n)), nlate = new Uint32Array(1);
  const r = Number(bpf().xt_t4_bulk(table, size, lens, a, len, n, ids, flat ? 1 : 0, late, nlate));
  if (r === -1) return { error: "too-far" };
  if (r < 0) return { error: "no-memory" };
  return { taken: r, late: late.subarray(0, nlate[0]) };
}
