/* blacklist.h — the blacklist stage: drop packets whose MAC, IPv4/IPv6 prefix, protocol or port
 * matches a deny rule, unless an allow rule matches too. Rules and their layout:
 * blacklist_types.h. Call `xt_blacklist_stage(&pkt)` after xt_parse(); it returns XDP_DROP or XDP_PASS
 * and counts the packet on the deciding rule. bl_decide() is that decision without the counting.
 *
 * Order of evaluation (the TypeScript reference matcher, test/oracles/blacklist.ts, follows it,
 * so per-rule counters can be compared hit for hit): source MAC, destination MAC, source
 * addresses (IP source; ARP sender; NA target), destination addresses (IP destination; ARP
 * target; NS target), then rules that name no address. For an address, the longest prefix
 * first; on one entry the plain rule, then protocol-only, destination-port and source-port
 * combined rules. IPv4 addresses are looked up in one open-addressing table (bl_t4) that holds
 * every prefix length, probed longest first for the lengths that occur in the address's /16
 * (bl_len4); IPv6 in an exact hash (/128) and an LPM trie. The first live deny rule decides; then allow rules are searched the same way
 * and, if one matches, the packet passes and that allow rule is counted instead.
 */
#ifndef XDPTOOL_BLACKLIST_H
#define XDPTOOL_BLACKLIST_H

#include "stats.h"
#include "blacklist_maps.h"  /* the maps */
#include "blacklist_match.h" /* struct bl_ctx; sets, IPv6, MACs */
#include "blacklist_v4.h"    /* IPv4 addresses */

/* One address of the packet, in direction `dir` (0 src, 1 dst), slot `i`. The tag (allow | dir)
 * selects one of the four kinds of entries sharing each table. */
#define BL_ADDR(dir, i)                                                              \
	do {                                                                         \
		if (i < (dir ? c->ndst : c->nsrc)) {                                \
			if (c->v6) {                                                 \
				c->k6[dir][i].tag = allow | dir;                     \
				id = gen ? bl_lpm6_1(&c->k6[dir][i], c) : bl_lpm6_0(&c->k6[dir][i], c); \
			} else if (c->flags & BL_HAS_V4) {                           \
				id = bl_addr4(c->a4[dir][i], allow | dir, c);        \
			}                                                            \
			if (id)                                                      \
				return id;                                           \
		}                                                                    \
	} while (0)

/* First live rule of one kind (allow = BL_TAG_ALLOW or 0) that matches, in the documented order. */
static __always_inline __u32 bl_find(struct xt_pkt *p, __u32 gen, __u8 allow, struct bl_ctx *c)
{
	__u32 id = 0;

	if (c->flags & BL_HAS_MAC) {
		struct ethhdr *eth = p->eth;
		struct bl_mac_key k = { .tag = allow };
		__builtin_memcpy(k.mac, eth->h_source, 6);
		id = gen ? bl_macm_1(&k, c) : bl_macm_0(&k, c);
		if (id)
			return id;
		k.tag = allow | BL_TAG_DST;
		__builtin_memcpy(k.mac, eth->h_dest, 6);
		id = gen ? bl_macm_1(&k, c) : bl_macm_0(&k, c);
		if (id)
			return id;
	}
	BL_ADDR(0, 0);
	BL_ADDR(0, 1);
	if (c->flags & BL_HAS_DST) {
		BL_ADDR(1, 0);
		BL_ADDR(1, 1);
	}
	if (c->flags & (allow ? BL_HAS_ALLOW : BL_HAS_GLOBAL_DENY))
		id = bl_set_match(gen, allow ? BL_SET_ALLOW : BL_SET_DENY, c);
	return id;
}

/* Fill in addresses (with their bounds checks right here), protocol and ports. */
static __always_inline void bl_extract(struct xt_pkt *p, struct bl_ctx *c)
{
	void *l3 = p->data + p->l3_off;

	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = l3;
		if ((void *)(ip + 1) > p->data_end || ip->version != 4 || ip->ihl < 5)
			return; /* no addresses: judged on L2 only */
		c->a4[0][0] = ip->saddr;
		c->a4[1][0] = ip->daddr;
		c->nsrc = c->ndst = 1;
		c->has_proto = 1;
	} else if (p->l3_proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;
		if ((void *)(ip6 + 1) > p->data_end)
			return;
		c->v6 = 1;
		__builtin_memcpy(c->k6[0][0].addr, &ip6->saddr, 16);
		__builtin_memcpy(c->k6[1][0].addr, &ip6->daddr, 16);
		c->nsrc = c->ndst = 1;
		c->has_proto = 1;
		/* Neighbour discovery carries the address it is about in the target field: judge it
		 * too, so a blocked host can neither answer (NA, target = itself: a source) nor be
		 * asked about (NS, target = the host looked up: a destination). */
		if (p->l4_proto == IPPROTO_ICMPV6 && p->l4_off) {
			__u8 *icmp = p->data + p->l4_off;
			if ((void *)(icmp + 24) <= p->data_end && (icmp[0] == 135 || icmp[0] == 136)) {
				int d = icmp[0] == 135; /* NS: destination; NA: source */
				__builtin_memcpy(c->k6[d][1].addr, icmp + 8, 16);
				if (d)
					c->ndst = 2;
				else
					c->nsrc = 2;
			}
		}
	} else if (p->l3_proto == XT_ETH_P_ARP) {
		__u8 *arp = l3;
		if ((void *)(arp + BL_ARP_HLEN) > p->data_end)
			return;
		/* Only Ethernet/IPv4 ARP has 4-byte addresses at these offsets. */
		if (arp[0] != 0 || arp[1] != 1 || arp[2] != 0x08 || arp[3] != 0 || arp[4] != 6 || arp[5] != 4)
			return;
		__builtin_memcpy(&c->a4[0][0], arp + 14, 4); /* sender protocol address */
		__builtin_memcpy(&c->a4[1][0], arp + 24, 4); /* target protocol address */
		c->nsrc = c->ndst = 1;
		return; /* no protocol or ports */
	} else {
		return;
	}
	c->proto = p->l4_proto;
	if (p->l4_unknown) {
		/* Fail closed (parsing.h says why it could not read L4). In IPv6 a chain cut short or too
		 * long leaves an extension header's type where the protocol would be: unknown too. */
		c->l4_unknown = 1;
		if (p->l3_proto == ETH_P_IPV6 && xt_ipv6_is_ext(p->l4_proto))
			c->has_proto = 0;
		return;
	}
	/* parsing.h read the ports only if the header was there (never in a later fragment). */
	if (p->l4_off && !p->truncated && (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP)) {
		c->has_ports = 1;
		c->sport = bpf_ntohs(p->sport);
		c->dport = bpf_ntohs(p->dport);
	}
}

/* A hit: one atomic add per counter on the rule's own line (the slot, or the record). The last-
 * hit time is written only when it moved, so a hot rule's line is not dirtied twice per packet. */
#define BL_COUNT(r, bytes, last)                                                     \
	do {                                                                         \
		__sync_fetch_and_add(&(r)->packets, 1);                              \
		__sync_fetch_and_add(&(r)->bytes, bytes);                            \
		if ((r)->last != (last))                                             \
			(r)->last = (last);                                          \
	} while (0)

static __always_inline void bl_count(__u32 id, struct xt_pkt *p, struct bl_ctx *c)
{
	__u64 bytes = p->data_end - p->data;

	if (!c->now)
		c->now = bpf_ktime_get_coarse_ns();
	__u32 last = c->now >> BL_LAST_SHIFT;
	if (id >= c->slot_base) {
		__u32 gen = c->gen, idx = id - c->slot_base - gen * c->t4_size;
		void *t4 = bpf_map_lookup_elem(&bl_t4, &gen);
		struct bl_slot4 *s = t4 ? bpf_map_lookup_elem(t4, &idx) : NULL;
		if (s)
			BL_COUNT(s, bytes, last);
	} else {
		struct bl_rec *r = bpf_map_lookup_elem(&bl_recs, &id);
		if (r)
			BL_COUNT(r, bytes, last);
	}
}

/* The verdict for a parsed packet and the rule that decided it (0: none), without counting:
 * xt_blacklist_stage counts, `blacklist test` (blacklist_test.bpf.c) only asks. */
static __always_inline int bl_judge(struct xt_pkt *p, struct bl_ctx *c, __u32 *rule)
{
	__u32 zero = 0;
	struct bl_cfg *cfg = bpf_map_lookup_elem(&bl_cfg, &zero);

	*rule = 0;
	if (!cfg || !p->eth)
		return XDP_PASS;
	/* `& 1`: gen indexes flags[2]; the verifier only accepts an index it can prove in
	 * bounds, and a mask is the cheapest proof (it also shrugs off a corrupt value). */
	__u32 gen = cfg->gen & 1;

	c->gen = gen;
	c->flags = cfg->flags[gen] & ~BL_V4_HOSTS24;
	__u32 si = 2 * BL_HOST4_WORDS + gen;
	__u64 *stamp = bpf_map_lookup_elem(&bl_host4, &si); /* the same line every packet: cached */
	if (stamp && *stamp == BL_HOST4_STAMP(cfg->t4_used[gen], cfg->next_id[gen]))
		c->flags |= BL_V4_HOSTS24;
	c->t4_size = cfg->t4_size;
	c->slot_base = cfg->slot_base;
	bl_extract(p, c);
	__u32 deny = bl_find(p, gen, 0, c);
	if (!deny)
		return XDP_PASS;
	/* Allow beats deny, but is only searched when a deny rule matched: exceptions cost
	 * nothing for the traffic no rule is about. */
	__u32 allow = (c->flags & BL_HAS_ALLOW) ? bl_find(p, gen, BL_TAG_ALLOW, c) : 0;
	*rule = allow ? allow : deny;
	return allow ? XDP_PASS : XDP_DROP;
}

static __always_inline int bl_decide(struct xt_pkt *p, __u32 *rule)
{
	struct bl_ctx c = {};

	return bl_judge(p, &c, rule);
}

static __always_inline int xt_blacklist_stage(struct xt_pkt *p)
{
	struct bl_ctx c = {};
	__u32 rule;
	int action = bl_judge(p, &c, &rule);

	if (rule)
		bl_count(rule, p, &c);
	if (action == XDP_DROP && c.undecided) {
		__u32 zero = 0;
		__u64 *n = bpf_map_lookup_elem(&bl_undecided, &zero);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return action;
}

#endif
