/* stats.h — the counters every xdptool program keeps (see `xdptool stats`).
 *
 * Include it, parse the packet, and leave through `return xt_count(&pkt, action);` — one exit
 * path, so no verdict escapes the statistics.
 */
#ifndef XDPTOOL_STATS_H
#define XDPTOOL_STATS_H

#include "parsing.h"
#include "xdptool.h"

/* The name is fixed (XT_STATS_MAP) so `xdptool stats` finds it in any of our programs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xt_counter);
} xdptool_stats SEC(".maps");

static __always_inline void xt_bump(__u32 slot, __u64 bytes)
{
	struct xt_counter *c = bpf_map_lookup_elem(&xdptool_stats, &slot);

	/* Never NULL for an in-range array slot, but the verifier insists we check. */
	if (c) {
		/* Per-CPU value: no other CPU writes it, so plain adds are safe (no atomics). */
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline __u32 xt_l3_slot(const struct xt_pkt *p)
{
	switch (p->l3_proto) {
	case ETH_P_IP: return XT_STAT_IPV4;
	case ETH_P_IPV6: return XT_STAT_IPV6;
	case XT_ETH_P_ARP: return XT_STAT_ARP;
	default: return XT_STAT_L3_OTHER;
	}
}

static __always_inline __u32 xt_l4_slot(const struct xt_pkt *p)
{
	switch (p->l4_proto) {
	case IPPROTO_TCP: return XT_STAT_TCP;
	case IPPROTO_UDP: return XT_STAT_UDP;
	case IPPROTO_ICMP: return XT_STAT_ICMP;
	case IPPROTO_ICMPV6: return XT_STAT_ICMPV6;
	default: return XT_STAT_L4_OTHER;
	}
}

static __always_inline int xt_count(const struct xt_pkt *p, int action)
{
	__u64 bytes = p->data_end - p->data;

	/* The action indexes slots 0..4. An unknown verdict (a bug) is counted as aborted — the kernel
	 * treats it so too — and the clamp keeps the index inside the array. */
	xt_bump((__u32)action <= XDP_REDIRECT ? (__u32)action : XDP_ABORTED, bytes);
	if (!p->eth) /* shorter than an Ethernet header: counted by action only */
		return action;
	xt_bump(xt_l3_slot(p), bytes);
	if (p->l3_proto == ETH_P_IP || p->l3_proto == ETH_P_IPV6)
		xt_bump(xt_l4_slot(p), bytes);
	/* The reason is < XT_L4U_MAX by construction; the check keeps the slot inside the array. */
	if (p->l4_unknown && p->l4_unknown < XT_L4U_MAX)
		xt_bump(XT_STAT_L4U_IP_CUT - 1 + p->l4_unknown, bytes);
	return action;
}

#endif
