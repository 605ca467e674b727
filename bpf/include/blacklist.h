/* blacklist.h — the blacklist stage: drop packets whose MAC, IPv4/IPv6 prefix, protocol or port
 * matches a deny rule, unless an allow rule matches too. Rules and their layout:
 * blacklist_types.h. Call `bl_stage(&pkt)` after xt_parse(); it returns XDP_DROP or XDP_PASS
 * and counts the packet on the deciding rule. bl_decide() is that decision without the counting.
 *
 * Order of evaluation (the TypeScript reference matcher, src/blacklist/reference.ts, follows it,
 * so per-rule counters can be compared hit for hit): source MAC, destination MAC, source
 * addresses (IP source; ARP sender; NA target), destination addresses (IP destination; ARP
 * target; NS target), then rules that name no address. For an address, the longest prefix
 * first; on one entry the plain rule, then protocol-only, destination-port and source-port
 * combined rules. The first live deny rule decides; then allow rules are searched the same way
 * and, if one matches, the packet passes and that allow rule is counted instead.
 */
#ifndef XDPTOOL_BLACKLIST_H
#define XDPTOOL_BLACKLIST_H

#include "stats.h"
#include "blacklist_types.h"

#ifndef BL_MAX_RULES
#define BL_MAX_RULES 2400000 /* both generations; `blacklist attach --max-rules` resizes */
#endif

/* Map choices. An LPM trie answers "which stored prefix is the longest one containing this
 * address" in one lookup; the kernel builds its nodes on insert and refuses an LPM map without
 * BPF_F_NO_PREALLOC. A hash answers only exact keys, but in one probe, which is why full-length
 * addresses (/32, /128) and MACs live in hashes. BPF_F_NO_PREALLOC on the other hashes makes
 * max_entries a cap rather than memory taken at load: most lists use few of these maps. */
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

BL_LPM(bl_v4_0, struct bl_v4_key, 2000000);
BL_LPM(bl_v4_1, struct bl_v4_key, 2000000);
BL_LPM(bl_v6_0, struct bl_v6_key, 1000000);
BL_LPM(bl_v6_1, struct bl_v6_key, 1000000);
/* IPv4 /32s are the bulk of big lists: preallocated, so a million-entry import or free takes
 * elements from a free list instead of the allocator (≈2× faster both ways). Sized by
 * `blacklist attach --max-rules` (src/blacklist/maps.ts sizeMaps). */
#define BL_HASH_PREALLOC(name, keytype, valtype, max)                                \
	struct {                                                                     \
		__uint(type, BPF_MAP_TYPE_HASH);                                     \
		__uint(max_entries, max);                                            \
		__type(key, keytype);                                                \
		__type(value, valtype);                                              \
	} name SEC(".maps")
BL_HASH_PREALLOC(bl_x4_0, struct bl_x4_key, struct bl_entry, 65536);
BL_HASH_PREALLOC(bl_x4_1, struct bl_x4_key, struct bl_entry, 65536);
BL_HASH(bl_x6_0, struct bl_x6_key, struct bl_entry, 1000000);
BL_HASH(bl_x6_1, struct bl_x6_key, struct bl_entry, 1000000);
BL_HASH(bl_mac_0, struct bl_mac_key, struct bl_entry, 262144);
BL_HASH(bl_mac_1, struct bl_mac_key, struct bl_entry, 262144);
BL_HASH(bl_l4_0, struct bl_l4_key, __u32, 1048576);
BL_HASH(bl_l4_1, struct bl_l4_key, __u32, 1048576);

/* Indexed by rule id, so arrays: a lookup is an offset computation, no hashing. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BL_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bl_rule);
} bl_rules SEC(".maps");

/* Per-CPU: a hit writes only its own CPU's copy, no atomics, no shared cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BL_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bl_hit);
} bl_hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bl_cfg);
} bl_cfg SEC(".maps"); /* one slot: the live generation and what each generation holds */

/* What the stage extracted from the packet, once. It lives on the BPF stack (512 bytes in
 * all) and is zeroed whole at the start: the keys below go to map lookups, which compare every
 * byte of a key, padding included — a stray byte would make a lookup miss at random (and
 * without CAP_PERFMON the verifier refuses uninitialised stack passed to a helper at all). */
struct bl_ctx {
	__u64 now; /* read lazily: only rules with a TTL need the clock */
	__u32 flags;
	__u8 has_proto; /* the L3 header was read: `proto` is valid */
	__u8 has_ports; /* the TCP/UDP ports were read */
	__u8 proto;
	__u8 nsrc, ndst; /* addresses to judge per direction (0..2), family below */
	__u8 v6;
	__u16 sport, dport; /* host order */
	union { /* one family per packet: sharing the space halves what must be zeroed */
		struct bl_v4_key k4[2][2]; /* [dir][i] */
		struct bl_v6_key k6[2][2];
	};
};

#define BL_ARP_HLEN 28 /* Ethernet/IPv4 ARP: 8 fixed + 2 × (6 MAC + 4 IP) */

static __always_inline int bl_live(__u32 id, struct bl_ctx *c)
{
	if (!id)
		return 0;
	struct bl_rule *r = bpf_map_lookup_elem(&bl_rules, &id);
	if (!r || !(r->flags & BL_RULE_ACTIVE))
		return 0;
	if (r->expires) {
		/* Expiry is judged here, so a rule stops at its time with no process running
		 * (user space only frees expired entries later, on its next command).
		 * The coarse clock (a tick's resolution) costs a few ns, not a TSC read. */
		if (!c->now)
			c->now = bpf_ktime_get_coarse_ns();
		if (c->now >= r->expires)
			return 0;
	}
	return 1;
}

/* The lookups below are global (non-static, noinline) BPF functions: the verifier checks each
 * one once, instead of once per call site and per path (inlined, the program exceeded the
 * verifier's 1M-instruction budget). Their pointer arguments may be NULL as far as the
 * verifier knows, hence the checks.
 * Each exists once per generation (_0/_1) with its map named directly: a lookup call that can
 * see two different maps is left as an indirect call through the generic helper (a retpoline
 * on this CPU, ~20 ns), while one fixed map becomes a direct call. */

/* The l4 map is a hash keyed by (set, proto, dir, port): a combined rule "prefix AND port" is
 * the prefix's entry (which names a set) plus one key in this map — exact lookups only. */
static __always_inline __u32 bl_l4_lookup(void *l4, struct bl_l4_key *k, struct bl_ctx *c)
{
	__u32 *id = bpf_map_lookup_elem(l4, k);

	return id && bl_live(*id, c) ? *id : 0;
}

/* Combined rules of one set: protocol only, then destination port, then source port. */
static __always_inline __u32 bl_set_match_in(void *l4, __u32 set, struct bl_ctx *c)
{
	if (!c || !c->has_proto)
		return 0;
	struct bl_l4_key k = { .set = set, .proto = c->proto, .dir = BL_L4_PROTO };
	__u32 id = bl_l4_lookup(l4, &k, c);
	if (id || !c->has_ports)
		return id;
	k.dir = BL_L4_DPORT;
	k.port = c->dport;
	id = bl_l4_lookup(l4, &k, c);
	if (id)
		return id;
	k.dir = BL_L4_SPORT;
	k.port = c->sport;
	return bl_l4_lookup(l4, &k, c);
}

__noinline __u32 bl_set_match_0(__u32 set, struct bl_ctx *c) { return bl_set_match_in(&bl_l4_0, set, c); }
__noinline __u32 bl_set_match_1(__u32 set, struct bl_ctx *c) { return bl_set_match_in(&bl_l4_1, set, c); }

static __always_inline __u32 bl_set_match(__u32 gen, __u32 set, struct bl_ctx *c)
{
	return gen ? bl_set_match_1(set, c) : bl_set_match_0(set, c);
}

static __always_inline __u32 bl_entry_match(__u32 gen, const struct bl_entry *e, struct bl_ctx *c)
{
	if (bl_live(e->rule, c))
		return e->rule;
	return e->set ? bl_set_match(gen, e->set, c) : 0;
}

/* Longest prefix first: the full-length address in the exact hash, then the trie. When an
 * entry has no rule for this packet, climb to the next shorter prefix by asking the trie again
 * with a shorter prefixlen (it returns the longest entry whose length is at most the key's). */
#define BL_ADDR_MATCH(xmap, lpm, key, full, fexact, fprefix, depth)                  \
	if (!key || !c)                                                              \
		return 0;                                                            \
	__u32 len = full;                                                            \
	if (c->flags & fexact) {                                                     \
		struct bl_entry *e = bpf_map_lookup_elem(xmap, &key->tag);           \
		if (e) {                                                             \
			__u32 id = bl_entry_match(gen, e, c);                        \
			if (id)                                                      \
				return id;                                           \
		}                                                                    \
	}                                                                            \
	if (!(c->flags & fprefix))                                                   \
		return 0;                                                            \
	key->prefixlen = full - 1; /* full-length entries are all in the hash */     \
	/* A constant bound, for the verifier: one step per prefix length, so even   \
	 * a nest of every length is climbed to its end (BL_LPM_DEPTH_V4/_V6). */      \
	for (int i = 0; i < depth; i++) {                                            \
		struct bl_entry *e = bpf_map_lookup_elem(lpm, key);                  \
		if (!e)                                                              \
			return 0;                                                    \
		__u32 id = bl_entry_match(gen, e, c);                                \
		if (id)                                                              \
			return id;                                                   \
		if (e->plen <= 8 || e->plen >= full) /* /0 reached: only the tag */  \
			return 0;                                                    \
		key->prefixlen = e->plen - 1;                                        \
	}                                                                            \
	return len & 0

#define BL_GEN(g)                                                                    \
	__noinline __u32 bl_lpm4_##g(struct bl_v4_key *key, struct bl_ctx *c)        \
	{                                                                            \
		const __u32 gen = g;                                                 \
		BL_ADDR_MATCH(&bl_x4_##g, &bl_v4_##g, key, 8 + 32, BL_HAS_V4_EXACT, BL_HAS_V4_PREFIX, BL_LPM_DEPTH_V4); \
	}                                                                            \
	__noinline __u32 bl_lpm6_##g(struct bl_v6_key *key, struct bl_ctx *c)        \
	{                                                                            \
		const __u32 gen = g;                                                 \
		BL_ADDR_MATCH(&bl_x6_##g, &bl_v6_##g, key, 8 + 128, BL_HAS_V6_EXACT, BL_HAS_V6_PREFIX, BL_LPM_DEPTH_V6); \
	}                                                                            \
	__noinline __u32 bl_macm_##g(struct bl_mac_key *key, struct bl_ctx *c)       \
	{                                                                            \
		if (!key || !c)                                                      \
			return 0;                                                    \
		struct bl_entry *e = bpf_map_lookup_elem(&bl_mac_##g, key);          \
		return e ? bl_entry_match(g, e, c) : 0;                              \
	}
BL_GEN(0)
BL_GEN(1)

/* One address of the packet, in direction `dir` (0 src, 1 dst), slot `i`. The key's tag byte
 * (allow | dir) selects one of the four kinds of entries sharing each map. */
#define BL_ADDR(dir, i)                                                              \
	do {                                                                         \
		if (i < (dir ? c->ndst : c->nsrc)) {                                \
			if (c->v6) {                                                 \
				c->k6[dir][i].tag = allow | dir;                     \
				id = gen ? bl_lpm6_1(&c->k6[dir][i], c) : bl_lpm6_0(&c->k6[dir][i], c); \
			} else {                                                     \
				c->k4[dir][i].tag = allow | dir;                     \
				id = gen ? bl_lpm4_1(&c->k4[dir][i], c) : bl_lpm4_0(&c->k4[dir][i], c); \
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
		__builtin_memcpy(c->k4[0][0].addr, &ip->saddr, 4);
		__builtin_memcpy(c->k4[1][0].addr, &ip->daddr, 4);
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
		__builtin_memcpy(c->k4[0][0].addr, arp + 14, 4); /* sender protocol address */
		__builtin_memcpy(c->k4[1][0].addr, arp + 24, 4); /* target protocol address */
		c->nsrc = c->ndst = 1;
		return; /* no protocol or ports */
	} else {
		return;
	}
	c->proto = p->l4_proto;
	/* parsing.h read the ports only if the header was there (never in a later fragment). */
	if (p->l4_off && !p->truncated && (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP)) {
		c->has_ports = 1;
		c->sport = bpf_ntohs(p->sport);
		c->dport = bpf_ntohs(p->dport);
	}
}

/* Count a packet on the rule that decided it. The rule's serial is read here, not carried over
 * from the search: bl_decide() reports only the id. */
static __always_inline void bl_count(__u32 id, struct xt_pkt *p)
{
	struct bl_rule *r = bpf_map_lookup_elem(&bl_rules, &id);
	struct bl_hit *h = bpf_map_lookup_elem(&bl_hits, &id);

	if (!r || !h)
		return;
	if (h->serial != r->serial) { /* first hit of this rule on this CPU: drop a predecessor's counts */
		h->packets = 0;
		h->bytes = 0;
		h->serial = r->serial;
	}
	h->packets++;
	h->bytes += p->data_end - p->data;
	h->last = bpf_ktime_get_coarse_ns();
}

/* The decision alone: XDP_DROP or XDP_PASS, and in *rule the id of the rule that decided (the
 * deny rule; the allow rule when one let a denied packet pass; 0 when no rule matched). Writes
 * no map: `blacklist test` (bpf/blacklist_test.bpf.c) runs it on a built frame. */
static __always_inline int bl_decide(struct xt_pkt *p, __u32 *rule)
{
	__u32 zero = 0;
	struct bl_cfg *cfg = bpf_map_lookup_elem(&bl_cfg, &zero);

	*rule = 0;
	if (!cfg || !p->eth)
		return XDP_PASS;
	struct bl_ctx c = {};
	/* `& 1`: gen indexes flags[2]; the verifier only accepts an index it can prove in
	 * bounds, and a mask is the cheapest proof (it also shrugs off a corrupt value). */
	__u32 gen = cfg->gen & 1;

	c.flags = cfg->flags[gen];
	bl_extract(p, &c);
	__u32 deny = bl_find(p, gen, 0, &c);
	if (!deny)
		return XDP_PASS;
	/* Allow beats deny, but is only searched when a deny rule matched: exceptions cost
	 * nothing for the traffic no rule is about. */
	__u32 allow = (c.flags & BL_HAS_ALLOW) ? bl_find(p, gen, BL_TAG_ALLOW, &c) : 0;
	*rule = allow ? allow : deny;
	return allow ? XDP_PASS : XDP_DROP;
}

/* The stage: decide, then count the packet on the deciding rule. */
static __always_inline int bl_stage(struct xt_pkt *p)
{
	__u32 rule;
	int verdict = bl_decide(p, &rule);

	if (rule)
		bl_count(rule, p);
	return verdict;
}

#endif
