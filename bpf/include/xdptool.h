/* xdptool.h — the data both sides see: the BPF programs and the TypeScript side (src/ffi/layout.ts).
 *
 * Only plain fixed-width types and constants live here, never code, so user space can mirror every
 * struct byte for byte; test/layout.test.ts compiles this header and compares sizes and offsets.
 */
#ifndef XDPTOOL_H
#define XDPTOOL_H

/* Statistics: one per-CPU array `xdptool_stats`, one slot per counter. Per-CPU, because a shared
 * counter would bounce its cache line between CPUs on every packet; user space sums the CPUs. */
enum xt_stat {
	/* Slots 0..4 are indexed by the XDP action itself (XDP_ABORTED=0 … XDP_REDIRECT=4). */
	XT_STAT_ABORTED = 0,
	XT_STAT_DROP,
	XT_STAT_PASS,
	XT_STAT_TX,
	XT_STAT_REDIRECT,
	/* L3 protocol of the packet (outermost after VLAN tags). */
	XT_STAT_IPV4,
	XT_STAT_IPV6,
	XT_STAT_ARP,
	XT_STAT_L3_OTHER,
	/* L4 protocol; counted for IP packets only. */
	XT_STAT_TCP,
	XT_STAT_UDP,
	XT_STAT_ICMP,
	XT_STAT_ICMPV6,
	XT_STAT_L4_OTHER,
	XT_STAT_MAX,
};

struct xt_counter {
	__u64 packets;
	__u64 bytes;
};

#define XT_STATS_MAP "xdptool_stats"

/* Features of the combined program (bpf/xdptool.bpf.c), bits of xt_features.enabled. The stages
 * run in this order: the blacklist first (a dropped packet is never answered), then the DNS
 * responder, then the sampler, which sees the verdict the stages before it reached. */
#define XT_F_BLACKLIST (1u << 0)
#define XT_F_RESPONDER (1u << 1)
#define XT_F_SAMPLER (1u << 2)

struct xt_features {
	__u32 enabled;  /* XT_F_* */
	__u32 layout;   /* XT_LAYOUT_VERSION of the program that wrote it */
};

/* Bumped whenever a pinned map of the combined program changes shape; see src/features.ts. */
#define XT_LAYOUT_VERSION 1

#endif
