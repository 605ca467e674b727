/* blacklist_maps.h — the blacklist's maps, and why each has the type it has. Included by
 * blacklist.h (the stage) and by bpf/blacklist_test.bpf.c through it; user space pins, sizes and
 * fills them (src/blacklist/maps.ts). Their key and value layouts: blacklist_types.h. */
#ifndef XDPTOOL_BLACKLIST_MAPS_H
#define XDPTOOL_BLACKLIST_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "blacklist_types.h"

#ifndef BL_MAX_RULES
#define BL_MAX_RULES 131072 /* records, both generations; `blacklist attach --max-rules` resizes */
#endif

/* Map choices (docs/A-measurements.md has the measurements). Under a flood from many sources every lookup
 * misses the CPU caches, so what counts is how many dependent cache lines a packet touches:
 *  - IPv4, every prefix length: ONE open-addressing table in a plain array. Array lookups are
 *    inlined by the verifier (no helper call, no hashing in the kernel), a key and its rule's
 *    counters share a 32-byte slot, and a hit costs one cache line. A kernel hash costs a
 *    bucket, an element and the rule's state; an LPM trie ~20 nodes.
 *  - bl_len4: per /16, which prefix lengths exist there, so a lookup probes only those.
 *  - IPv6 and MACs: hashes for full-length keys, an LPM trie for IPv6 prefixes (rarer in
 *    floods; the same table design would carry over). BPF_F_NO_PREALLOC: elements are made as
 *    rules arrive (a hash's bucket array, 16 bytes a bucket, is still taken at load). */
#define BL_LPM(name, keytype, max)                                                   \
	struct {                                                                     \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                 \
		__uint(map_flags, BPF_F_NO_PREALLOC); /* LPM requires it; memory grows with rules */ \
		__uint(max_entries, max);                                            \
		__type(key, keytype);                                                \
		__type(value, struct bl_entry);                                      \
	} name SEC(".maps")
#define BL_HASH(name, keytype, valtype, max)                                         \
	struct {                                                                     \
		__uint(type, BPF_MAP_TYPE_HASH);                                     \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                \
		__uint(max_entries, max);                                            \
		__type(key, keytype);                                                \
		__type(value, valtype);                                              \
	} name SEC(".maps")

BL_LPM(bl_v6_0, struct bl_v6_key, 1000000);
BL_LPM(bl_v6_1, struct bl_v6_key, 1000000);
BL_HASH(bl_x6_0, struct bl_x6_key, struct bl_entry, 1000000);
BL_HASH(bl_x6_1, struct bl_x6_key, struct bl_entry, 1000000);
BL_HASH(bl_mac_0, struct bl_mac_key, struct bl_entry, 262144);
BL_HASH(bl_mac_1, struct bl_mac_key, struct bl_entry, 262144);
BL_HASH(bl_l4_0, struct bl_l4_key, __u32, 1048576);
BL_HASH(bl_l4_1, struct bl_l4_key, __u32, 1048576);
/* Expiry times of IPv4 slot rules that have a TTL (few), by rule id. */
BL_HASH(bl_exp4, __u32, __u64, 1048576);

/* One table per generation, each an array (struct bl_slot4 × cfg.t4_size, BPF_F_MMAPABLE) that
 * user space creates, fills through mmap (a million slots are memory writes, not a million
 * syscalls) and puts here; replacing a rule set swaps in a new table, and freeing the old one is
 * dropping it from this map. Only the live generation's table takes memory between imports.
 * Lookups in the inner array are still inlined: every table has the template's size
 * (src/blacklist/maps.ts sizeMaps sets the template; BPF_F_INNER_MAP would cost the inlining). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} bl_t4 SEC(".maps");

/* [gen][tag & 3][first 16 bits of the address]: bit L set = some entry of length L and that
 * kind overlaps this /16 (a /8 sets its bit in 256 of them). 512 KiB per generation and kind. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * 4 * 65536);
	__type(key, __u32);
	__type(value, __u64);
} bl_len4 SEC(".maps");

/* [gen][/24]: two bits per /24 (BL_H24_*), set when that /24 holds a /32, or a /25-/31 prefix,
 * of any kind (the four kinds share them: a bit set for another kind only costs the probes every
 * lookup paid before). A source inside a listed prefix but in no /24 with a listed host skips the
 * /32 probe — a random line and page in a table of hundreds of MiB — and one in a /24 that is not
 * cut into pieces skips the /25-/31 lengths its /16 holds elsewhere (each an unsuccessful probe:
 * two lines on average at load 0.6). Bits are set before their entry goes live and cleared only
 * with the generation (a stale bit costs a probe, never a wrong answer). 4 MiB per generation,
 * whatever the number of rules.
 * A missing bit would be a wrong answer, so the bits are trusted only while entry
 * 2 * BL_HOST4_WORDS + gen holds BL_HOST4_STAMP of that generation's bl_cfg counts, which every
 * change of its rules moves: user space re-stamps after each change it made with the bits kept.
 * A map added to an older xdptool's pins (stamp 0), or rules changed by an older xdptool that
 * knows no bits, leave the stamp behind, and every probe is made as before. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 * BL_HOST4_WORDS + 2);
	__type(key, __u32);
	__type(value, __u64);
} bl_host4 SEC(".maps");

/* Indexed by rule id, so an array: a lookup is an offset computation, no hashing. Counters are
 * shared by all CPUs (atomic adds): per-CPU copies would cost 5 KB a rule on a 64-CPU host. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, BL_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bl_rec);
} bl_recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bl_cfg);
} bl_cfg SEC(".maps");

/* Comments of rules (`--comment`), by rule id: text for people, which the program never looks
 * up — here, not in a file, so a comment lives and dies with the pinned rules (unload removes
 * both) and a rule set swap carries it (the idle generation's ids get theirs before the switch).
 * A hash without preallocation: comments are rare, and an element is made only for a rule that
 * has one; the bucket array (16 bytes a bucket) is the whole cost for the rest. Fixed size, not
 * resized with --max-rules: both generations' comments share it during a swap. */
#define BL_NOTE_MAX 128
#define BL_NOTES 65536
struct bl_note {
	char text[BL_NOTE_MAX]; /* UTF-8, NUL-padded; no NUL inside */
};
BL_HASH(bl_notes, __u32, struct bl_note, BL_NOTES);

/* Packets dropped because their ports or protocol could not be read (a summary decided): kept
 * apart from bl_cfg, which user space rewrites whole. Shared, atomic: such packets are rare. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bl_undecided SEC(".maps"); /* one slot: the live generation and what each generation holds */

#endif
