// t4bulk.c — lays a whole list of IPv4 prefixes into an empty IPv4 table of the blacklist
// (struct bl_slot4, mmapped by src/blacklist/table4.ts), where the program will look for them.
//
// Why C: this is the one loop in an `import --replace` that touches every key. In TypeScript it
// runs cold (once per process, before the JIT has optimized it) and was half of a million-rule
// import (docs/A-measurements.md "Management" has the figures). Everything else about a build stays in TypeScript.
//
// The placement is the one Robin Hood probing converges to: keys sorted by home slot (ties in
// input order) and written front to back, each at its home or just after the run before it.
// The hash is bpf/include/blacklist_hash.h, the program's own.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include "blacklist_hash.h"

#define WORDS 8 // u32 words per struct bl_slot4

// Stable LSD radix sort of `n` (home << 32 | index) keys by home (`bits` wide).
static int sort_by_home(uint64_t *k, size_t n, unsigned bits)
{
	uint64_t *tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -1;
	for (unsigned shift = 0; shift < bits; shift += 11) {
		size_t at[2049] = {0};
		for (size_t i = 0; i < n; i++)
			at[((k[i] >> 32 >> shift) & 2047) + 1]++;
		for (int d = 0; d < 2048; d++)
			at[d + 1] += at[d];
		for (size_t i = 0; i < n; i++)
			tmp[at[(k[i] >> 32 >> shift) & 2047]++] = k[i];
		memcpy(k, tmp, n * sizeof(*k));
	}
	free(tmp);
	return 0;
}

// bl_len4 (this generation, tag 0: 65536 pairs of words): the length occurs in every /16 the
// prefix overlaps.
static void mark_length(__u32 *lens, __u32 a, unsigned len)
{
	__u32 hi16 = ((a & 0xff) << 8) | ((a >> 8) & 0xff), word = len >> 5, bit = 1u << (len & 31);
	if (len >= 16) {
		lens[hi16 * 2 + word] |= bit;
		return;
	}
	__u32 span = 1u << (16 - len), from = hi16 & ~(span - 1);
	for (__u32 k = from; k < from + span; k++)
		lens[k * 2 + word] |= bit;
}

// Keys i < n: address `a[i]` (as the program loads it, host bits clear), length `len[i]`, tag
// 0 (plain source prefixes). Each key placed becomes a live rule whose word 3 holds ids[i]; a
// key seen before gets ids[i] = 0. Keys whose run would pass the table's end are left for the
// caller (their indexes in late[], *nlate of them: placed with wrap-around there).
// Returns the number of slots taken, -1 when a key would land further than BL_T4_PROBES from
// its home (the table is too full or a window too crowded), -2 when memory ran out.
long xt_t4_bulk(__u32 *table, __u32 size, __u32 *lens, const __u32 *a, const __u8 *len, __u32 n,
		__u32 *ids, int flat, __u32 *late, __u32 *nlate)
{
	unsigned bits = 0;
	while ((1u << bits) < size)
		bits++;
	uint64_t *order = malloc((size_t)n * sizeof(*order) + 1);
	if (!order)
		return -2;
	for (__u32 i = 0; i < n; i++)
		order[i] = (uint64_t)(bl_hash4(a[i], len[i] | (BL_TAG_USED << 8), flat) & (size - 1)) << 32 | i;
	if (sort_by_home(order, n, bits) < 0) {
		free(order);
		return -2;
	}
	long taken = 0;
	__u32 next = 0, nl = 0;
	for (__u32 k = 0; k < n; k++) {
		__u32 home = order[k] >> 32, i = (__u32)order[k], ai = a[i], lt = len[i] | (BL_TAG_USED << 8);
		int dup = 0;
		for (__u32 p = home; p < next; p++) // the run from home: the same key placed before?
			if (table[p * WORDS] == ai && (table[p * WORDS + 1] & 0xffff) == lt)
				dup = 1;
		if (dup) {
			ids[i] = 0;
			continue;
		}
		__u32 p = home > next ? home : next;
		if (p - home >= BL_T4_PROBES) { // past what the program probes
			free(order);
			return -1;
		}
		if (p >= size) {
			late[nl++] = i;
			continue;
		}
		__u32 *s = table + (size_t)p * WORDS;
		s[0] = ai;
		s[1] = lt | (BL_SLOT_RULE << 16);
		s[3] = ids[i];
		mark_length(lens, ai, len[i]);
		next = p + 1;
		taken++;
	}
	free(order);
	*nlate = nl;
	return taken;
}
