/* blacklist_hash.h — where an IPv4 prefix's slot is in bl_t4: the one hash both sides use.
 *
 * Plain C (fixed-width types only): the program includes it (blacklist_v4.h), and so does the
 * user-space bulk loader in libbpf/shim.c, which lays a million prefixes into a table where the
 * program will look for them. src/blacklist/table4.ts hash4 is the same function in TypeScript
 * (single adds and lookups); test/blacklist.test.ts holds the three to one answer. */
#ifndef XDPTOOL_BLACKLIST_HASH_H
#define XDPTOOL_BLACKLIST_HASH_H

#include "blacklist_types.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* murmur3's finalizer over the address (as loaded, network byte order) mixed with length and
 * tag. 32-bit multiplies and shifts are single BPF instructions; consecutive addresses land far
 * apart. */
static __always_inline __u32 bl_fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85EBCA6Bu;
	h ^= h >> 13;
	h *= 0xC2B2AE35u;
	h ^= h >> 16;
	return h;
}

/* The home slot of a prefix (before masking to the table size). /24 to /31 keep together: their
 * homes lie in one window of BL_T4_WINDOW slots picked by the /24 (and kind), so the probes of one
 * source for all those lengths share a page — under a flood every probe elsewhere is a TLB miss,
 * and a VM's nested page walk costs more than the cache miss itself (docs/A-measurements.md has the same-run
 * measurements of window sizes: smaller windows gain a little more, but the smaller the window
 * the sooner a cut-up /24 forces a flat build).
 * /32s (in big lists tens per /24: they would crowd a window) and shorter prefixes (hundreds per
 * /16) spread over the table, and so does everything in a generation built BL_T4_FLAT (a /24
 * cut into more pieces than a window holds: user space falls back rather than refuse the set). */
static __always_inline __u32 bl_hash4(__u32 a, __u32 lentag, int flat)
{
	__u32 len = lentag & 0xff;
	__u32 h = bl_fmix32(a ^ (lentag * 0x9E3779B1u));

	if (flat || len < 24 || len > 31)
		return h;
	/* `a` is loaded from the wire little-endian: its low three bytes are the /24. */
	__u32 w = bl_fmix32((a & 0x00ffffff) ^ ((lentag >> 8) * 0x9E3779B1u));
	return (w & ~(__u32)(BL_T4_WINDOW - 1)) | (h & (BL_T4_WINDOW - 1));
}

#endif
