/* blacklist_v4.h — IPv4 addresses: every prefix of every length in one open-addressing table
 * (bl_t4), probed longest first over the lengths bl_len4 says its /16 holds. The hash is
 * blacklist_hash.h; the probing rules are the same in src/blacklist/table4.ts, which places keys
 * one at a time, and in libbpf/shim.c, which lays a whole set down at once. */
#ifndef XDPTOOL_BLACKLIST_V4_H
#define XDPTOOL_BLACKLIST_V4_H

#include "blacklist_match.h"
#include "blacklist_hash.h"

/* The entry for one prefix (a masked, len, tag) in bl_t4: its rule when live, else the
 * combined rules of its set. Linear probing from the home slot: a key is never placed more than
 * BL_T4_PROBES slots away (user space refuses), and an empty slot ends the search. Inlined into
 * bl_addr4 (one BPF-to-BPF call less per lookup, a measurable part of a hit: docs/05);
 * bl_addr4 stays global, so the verifier still walks these loops once. */
static __always_inline __u32 bl_slot_match(__u32 a, __u32 lentag, struct bl_ctx *c)
{
	if (!c)
		return 0;
	__u64 key = (__u64)a | ((__u64)lentag << 32);
	__u32 gen = c->gen, size = c->t4_size, h = bl_hash4(a, lentag, c->flags & BL_T4_FLAT);
	void *t4 = bpf_map_lookup_elem(&bl_t4, &gen);

	if (!t4)
		return 0;
	for (int j = 0; j < BL_T4_PROBES; j++) {
		__u32 idx = (h + j) & (size - 1);
		struct bl_slot4 *s = bpf_map_lookup_elem(t4, &idx);
		if (!s)
			return 0;
		__u64 w = *(__u64 *)s; /* addr, len, tag, flags: one load */
		if (!w)
			return 0;
		if ((w & 0xffffffffffffULL) != key)
			continue;
		__u32 flags = w >> 48, id = c->slot_base + gen * size + idx; /* the slot's handle */
		if (flags & BL_SLOT_RULE) {
			if (!(flags & BL_SLOT_TTL))
				return id;
			__u64 *exp = bpf_map_lookup_elem(&bl_exp4, &id);
			if (exp && bl_unexpired(*exp, c))
				return id;
		}
		return s->set ? bl_set_match(c->gen, s->set, c) : 0;
	}
	return 0;
}

/* One IPv4 address (as loaded from the packet) of one kind (tag): longest prefix first, over
 * the lengths that occur in its /16 only — usually one or two probes. */
__noinline __u32 bl_addr4(__u32 a, __u32 tag, struct bl_ctx *c)
{
	if (!c)
		return 0;
	__u32 lentag = (tag | BL_TAG_USED) << 8;
	/* What the /24 holds (bl_host4), when the generation's bits can be trusted; else assume all. */
	__u64 h24 = BL_H24_HOST | BL_H24_PIECES;
	if (c->flags & BL_V4_HOSTS24) {
		__u32 a24 = __builtin_bswap32(a) >> 8; /* the /24, most significant octet first */
		__u32 wi = (c->gen & 1) * BL_HOST4_WORDS + (a24 >> 5);
		__u64 *hw = bpf_map_lookup_elem(&bl_host4, &wi);
		if (hw)
			h24 = *hw >> ((a24 & 31) * 2);
	}
	/* /32s first, before bl_len4 is read: in big lists every /16 holds some, so bl_len4 cannot
	 * spare their probe, and a flood of listed hosts then costs one table line, not two. The
	 * /24's bit can: a source inside a prefix, in a /24 without listed hosts, skips the probe.
	 * (The bit's load does not hold the probe's back: the branch is predicted.) */
	if ((c->flags & BL_HAS_V4_FULL) && (h24 & BL_H24_HOST)) {
		__u32 id = bl_slot_match(a, 32 | lentag, c);
		if (id)
			return id;
	}
	__u32 hi16 = ((a & 0xff) << 8) | ((a >> 8) & 0xff); /* first two bytes on the wire */
	__u32 bi = ((c->gen & 1) * 4 + (tag & 3)) * 65536 + hi16;
	__u64 *lp = bpf_map_lookup_elem(&bl_len4, &bi);
	if (!lp)
		return 0;
	__u64 lens = *lp & ((1ULL << 32) - 1); /* /32 was asked above */
	if (!(h24 & BL_H24_PIECES))
		lens &= ~0xfe000000ULL; /* /25-/31: none in this /24 */

	/* Down from /32, leaving as soon as no shorter length is left: a /16 that holds only /32s
	 * costs one round. (A loop over the set bits would be shorter still, but finding the highest
	 * bit takes branches that multiply the paths the verifier walks.) */
	for (int len = 31; len >= 0; len--) {
		if (!(lens & ((2ULL << len) - 1)))
			break;
		if (!((lens >> len) & 1))
			continue;
		/* Host bits off: the mask is built in wire order, then loaded like the address. */
		__u32 mask = len ? __builtin_bswap32(0xffffffffu << ((32 - len) & 31)) : 0;
		__u32 id = bl_slot_match(a & mask, len | lentag, c);
		if (id)
			return id;
	}
	return 0;
}

#endif
