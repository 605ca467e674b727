/* flood_oa.h — the open-addressing tables of the flood bench's flood_oa* baselines: the /32s of
 * the list (u32, as loaded from the packet; 0 = empty slot) in 2^21 slots (load ~0.48 at 1M),
 * linear probing from a multiplicative hash's home slot, the probe staying inside the home's
 * piece of OA_PIECE slots (so that a table cut into pieces is probed exactly like a whole one).
 * bench/flood/candidates.ts lays the keys out with the same rules. */
#ifndef FLOOD_OA_H
#define FLOOD_OA_H

#include "flood.h"

#define OA_BITS 21
#define OA_SLOTS (1u << OA_BITS)
#define OA_PIECE 4096 /* slots (16 KiB) per piece of the split table: a kmalloc, not a vmalloc */
#define OA_PROBES 64

static __always_inline __u32 oa_home(__u32 k)
{
	return (k * 0x9e3779b1u) >> (32 - OA_BITS);
}

/* The verdict for saddr: probe `table` (a whole table, base = the home's piece; or one piece of a
 * split table, base 0) from home slot h, inside its piece, until the key or an empty slot. */
static __always_inline int oa_verdict(void *table, __u32 base, __u32 h, __u32 saddr)
{
	for (int j = 0; j < OA_PROBES; j++) {
		__u32 i = base | ((h + j) & (OA_PIECE - 1));
		__u32 *k = bpf_map_lookup_elem(table, &i);
		if (!k || !*k)
			break;
		if (*k == saddr)
			return flood_verdict(1);
	}
	return flood_verdict(0);
}

#endif
