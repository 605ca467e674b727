/* blacklist_match.h — what the stage knows of a packet (struct bl_ctx), whether a rule is live,
 * and the matches on everything but IPv4 addresses: combined rules (sets in bl_l4), IPv6 prefixes
 * (exact hash, then LPM trie) and MACs. IPv4 addresses: blacklist_v4.h. */
#ifndef XDPTOOL_BLACKLIST_MATCH_H
#define XDPTOOL_BLACKLIST_MATCH_H

#include "blacklist_maps.h"

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

#endif
