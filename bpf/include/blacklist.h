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
 * combined rules. IPv4 addresses are looked up in one open-addressing table (bl_t4) that holds
 * every prefix length, probed longest first for the lengths that occur in the address's /16
 * (bl_len4); IPv6 in an exact hash (/128) and an LPM trie. The first live deny rule decides; then allow rules are searched the same way
 * and, if one matches, the packet passes and that allow rule is counted instead.
 */
#ifndef XDPTOOL_BLACKLIST_H
#define XDPTOOL_BLACKLIST_H

#include "stats.h"
#include "blacklist_types.h"

#ifndef BL_MAX_RULES
#define BL_MAX_RULES 131072 /* records, both generations; `blacklist attach --max-rules` resizes */
#endif

/* Map choices (docs/04 has the measurements). Under a flood from many sources every lookup
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

/* Packets dropped because their ports or protocol could not be read (a summary decided): kept
 * apart from bl_cfg, which user space rewrites whole. Shared, atomic: such packets are rare. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bl_undecided SEC(".maps"); /* one slot: the live generation and what each generation holds */

/* What the stage extracted from the packet, once. It lives on the BPF stack (512 bytes in
 * all) and is zeroed whole at the start: the keys below go to map lookups, which compare every
 * byte of a key, padding included — a stray byte would make a lookup miss at random (and
 * without CAP_PERFMON the verifier refuses uninitialised stack passed to a helper at all). */
struct bl_ctx {
	__u64 now; /* read lazily: only rules with a TTL, and hits, need the clock */
	__u32 flags;
	__u32 gen;
	__u32 t4_size;   /* bl_cfg copies, so the global functions below need no map lookup */
	__u32 slot_base;
	__u8 has_proto; /* the L3 header was read: `proto` is valid */
	__u8 has_ports; /* the TCP/UDP ports were read */
	__u8 l4_unknown; /* ports (or, with !has_proto, the protocol) should be there but cannot be read */
	__u8 undecided; /* the last rule found was found through a summary (BL_L4_ANY*) */
	__u8 proto;
	__u8 nsrc, ndst; /* addresses to judge per direction (0..2), family below */
	__u8 v6;
	__u16 sport, dport; /* host order */
	union { /* one family per packet: sharing the space halves what must be zeroed */
		__u32 a4[2][2]; /* [dir][i]: IPv4 addresses as loaded from the packet (network order) */
		struct bl_v6_key k6[2][2];
	};
};

#define BL_ARP_HLEN 28 /* Ethernet/IPv4 ARP: 8 fixed + 2 × (6 MAC + 4 IP) */

/* Expiry is judged here, so a rule stops at its time with no process running (user space only
 * frees expired entries later, on its next command). The coarse clock (a tick's resolution)
 * costs a few ns, not a TSC read. */
static __always_inline int bl_unexpired(__u64 expires, struct bl_ctx *c)
{
	if (!expires)
		return 1;
	if (!c->now)
		c->now = bpf_ktime_get_coarse_ns();
	return c->now < expires;
}

/* A record rule (any id below slot_base) that is active and not expired. */
static __always_inline int bl_live(__u32 id, struct bl_ctx *c)
{
	if (!id)
		return 0;
	struct bl_rec *r = bpf_map_lookup_elem(&bl_recs, &id);
	return r && (r->flags & BL_RULE_ACTIVE) && bl_unexpired(r->expires, c);
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

/* Combined rules of one set: protocol only, then destination port, then source port. A packet
 * whose ports (or protocol) cannot be read is dropped under any deny rule of the set that could
 * apply given what is known: its summary (allow sets have none: an exception never lets an
 * undecidable packet through). The summary's rule is taken as it is, live or not: a set whose
 * rules all expired drops such packets until user space collects them. */
static __always_inline __u32 bl_set_match_in(void *l4, __u32 set, struct bl_ctx *c)
{
	if (!c)
		return 0;
	struct bl_l4_key k = { .set = set, .proto = c->proto, .dir = BL_L4_PROTO };
	__u32 id = c->has_proto ? bl_l4_lookup(l4, &k, c) : 0;
	if (id)
		return id;
	if (c->has_ports) {
		k.dir = BL_L4_DPORT;
		k.port = c->dport;
		id = bl_l4_lookup(l4, &k, c);
		if (id)
			return id;
		k.dir = BL_L4_SPORT;
		k.port = c->sport;
		return bl_l4_lookup(l4, &k, c);
	}
	if (!c->l4_unknown)
		return 0;
	k.proto = c->has_proto ? c->proto : 0;
	k.dir = c->has_proto ? BL_L4_ANYPORT : BL_L4_ANY;
	__u32 *any = bpf_map_lookup_elem(l4, &k);
	if (!any || !*any)
		return 0;
	c->undecided = 1;
	return *any;
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
	 * a nest of every length is climbed to its end (BL_LPM_DEPTH_V6). */         \
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

/* The slot hash, the same in src/blacklist/table4.ts: murmur3's finalizer over the address
 * (as loaded, network byte order) mixed with length and tag. 32-bit multiplies and shifts are
 * single BPF instructions; consecutive addresses land far apart. */
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
 * and a VM's nested page walk costs more than the cache miss itself. Measured (bench/flood.bench.ts
 * with XDPTOOL_BASE, same run): half the sources inside prefixes, 490 ns a packet over bare drop
 * against 537 with every home random; windows of 16 slots gained a little more (516 vs 586), 64
 * less (565 vs 612), and the smaller the window the sooner a cut-up /24 forces a flat build.
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

/* The entry for one prefix (a masked, len, tag) in bl_t4: its rule when live, else the
 * combined rules of its set. Linear probing from the home slot: a key is never placed more than
 * BL_T4_PROBES slots away (user space refuses), and an empty slot ends the search. Inlined into
 * bl_addr4 (one BPF-to-BPF call less per lookup: 7-20 ns of a 100-130 ns hit under TEST_RUN);
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
	/* /32s first, before bl_len4 is read: in big lists every /16 holds some, so the bitmap
	 * cannot spare their probe, and a flood of listed hosts then costs one cache line, not two. */
	if (c->flags & BL_HAS_V4_FULL) {
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
 * bl_stage counts, `blacklist test` (blacklist_test.bpf.c) only asks. */
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
	c->flags = cfg->flags[gen];
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

static __always_inline int bl_stage(struct xt_pkt *p)
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
