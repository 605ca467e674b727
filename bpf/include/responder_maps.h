/* responder_maps.h — the responder's maps (configuration, names, prefixes, the host's addresses,
 * rate buckets, counters, scratch) and the two helpers every part uses: count a verdict, get the
 * scratch. Layouts shared with user space: responder_data.h. */
#ifndef XDPTOOL_RESPONDER_MAPS_H
#define XDPTOOL_RESPONDER_MAPS_H

#include "parsing.h"
#include "dns.h"
#include "responder_data.h"

/* All configuration lives in maps rather than in .rodata constants, so `xdptool responder enable`
 * can change it on a running program: one array entry for the settings… */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_resp_config);
} resp_config SEC(".maps");

/* …the --qname suffixes, by (length, hash) — see struct xt_resp_name. An array probed by the
 * hash's own top bits: the verifier inlines an array lookup into a bounds check and an address, so
 * finding a name takes no helper call and no second hash (a hash map took both: jhash over the
 * key, a bucket walk, ~10 ns a return on this machine's mitigations — docs/07-xdp-tx.md)… */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * XT_RESP_NAME_SLOTS);
	__type(key, __u32);
	__type(value, struct xt_resp_name);
} resp_name_table SEC(".maps");

/* The same names as text (lowercased, no trailing dot, zero-padded), never read by the program:
 * resp_name_table holds only hashes under a random multiplier, and `xdptool save` must write the names
 * back from what the kernel holds, not from a file beside it. Allocated per name (no prealloc). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_resp_qname);
	__type(value, __u8);
} resp_qnames SEC(".maps");

/* …and the --from prefixes: longest-prefix-match tries, one per family (the kernel requires
 * BPF_F_NO_PREALLOC for LPM tries). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_resp_prefix4);
	__type(value, __u8);
} resp_from4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_resp_prefix6);
	__type(value, __u8);
} resp_from6 SEC(".maps");

/* The host's own addresses (see responder_data.h), written by user space only: the short list
 * first, the tries when the list is not the whole story. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_resp_local_list);
} resp_local_list SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_resp_prefix4);
	__type(value, __u8);
} resp_local4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xt_resp_prefix6);
	__type(value, __u8);
} resp_local6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct xt_resp_source);
	__type(value, __u8);
} resp_addrs SEC(".maps");

/* --over token buckets, one per aggregated source. LRU, because a spoofed flood brings a new
 * source with every packet: a plain hash would fill up and refuse new sources; LRU evicts the
 * stalest bucket instead. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xt_resp_source);
	__type(value, struct xt_resp_bucket);
} resp_rate SEC(".maps");

/* Counters per reason (enum xt_resp_stat), per CPU like xdptool_stats: `xdptool responder status`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_RESP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} resp_stats SEC(".maps");

/* --unverified-only: sources that completed a TCP handshake with us (responder_verify.h), one per
 * aggregate (struct xt_resp_source, host bits cleared), the value its expiry (ktime ns). LRU: a
 * bounded map where the least recently seen source makes room, so no flood can fill it — and a
 * spoofed flood adds nothing to it at all, having no connections. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xt_resp_source);
	__type(value, __u64);
} resp_verified SEC(".maps");

/* The longest question: a name of 255 bytes (root byte included), QTYPE and QCLASS. */
#define XT_RESP_QUESTION_MAX (XT_DNS_NAME_MAX + 4)

/* Per-CPU scratch: the question (its name walked, its bytes summed for the reply's checksum: in a
 * map value the walk reads at offsets the verifier can bound, in a packet each read would need
 * its own check against data_end), and where the name's labels start. Per-CPU, because XDP runs on every CPU at once, and on one CPU a run
 * completes before the next begins (softirq): each copy needs no lock. */
struct xt_resp_scratch {
	/* 512, not XT_RESP_QUESTION_MAX: the copy and the checksum take whole words at indexes masked
	 * with 0x3f, which the verifier can bound without trusting a length check (responder_name.h). */
	union {
		__u8 name[512];
		__u64 name_w[64]; /* the same bytes eight at a time: clang knows they are aligned */
	};
	__u8 label[128]; /* offsets of its length bytes, in order (responder_name.h) */
	/* XT_RESP_EDNS_* of the query, from the stage to the rewrite. Kept here, not in a register:
	 * read back from a map value it is one unknown number to the verifier, so the paths with and
	 * without OPT merge after the check instead of each being verified through the whole rest
	 * of the program (the combined program is near the verifier's 1M-instruction budget). */
	__u32 edns;
	__u32 labels; /* how many of label[] are set */
	__u32 first;  /* the label where the suffix walk's lookups begin (responder_name.h) */
	/* The suffix walk's state, here rather than in arguments (a BPF call takes five at most):
	 * the hash's multiplier, the longest listed suffix, the table half in use; whether names are
	 * selected at all (--qname), and the first lookup's result (responder_name.h). */
	__u64 mul;
	__u32 max;
	__u32 base;
	__u32 want;
	__s32 listed;
	__u64 qsum; /* the question's checksum sum, from the label walk (responder_name.h) */
	__u32 len;  /* the name's length without the root byte, from the label walk */
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_resp_scratch);
} resp_scratch SEC(".maps");


static __always_inline int xt_resp_verdict(__u32 reason, int action)
{
	__u64 *c = bpf_map_lookup_elem(&resp_stats, &reason);

	if (c)
		*c += 1; /* per-CPU slot: no atomics needed */
	return action;
}

static __always_inline struct xt_resp_scratch *xt_resp_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&resp_scratch, &zero);
}

#endif
