/* responder_select.h — which queries are this responder's to answer: the port, the source
 * (--from), the destination (one of this host's addresses, --address), the rate per aggregated
 * source (--over, --slip). */
#ifndef XDPTOOL_RESPONDER_SELECT_H
#define XDPTOOL_RESPONDER_SELECT_H

#include "responder_maps.h"

/* The loop bound is the constant array size, not cfg->nports: a bound read from a map is unknown
 * to the verifier. nports only filters inside the (unrolled) loop. */
static __always_inline int xt_resp_port_ok(const struct xt_resp_config *cfg, __u16 dport)
{
#pragma unroll
	for (int i = 0; i < XT_RESP_MAX_PORTS; i++)
		if (i < cfg->nports && cfg->ports[i] == dport)
			return 1;
	return 0;
}

/* Is the source inside a --from prefix? An LPM trie lookup with a full-length key (/32, /128)
 * finds the longest stored prefix that contains the address. The IP header is re-checked here: the
 * verifier only trusts a packet pointer for the bytes a check proved for that very pointer, and
 * this one is derived afresh from p->data + l3_off. */
static __always_inline int xt_resp_from_listed(struct xt_pkt *p)
{
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return 0;
		struct xt_resp_prefix4 k = { .prefixlen = 32 };
		__builtin_memcpy(k.addr, &ip->saddr, 4);
		return bpf_map_lookup_elem(&resp_from4, &k) != NULL;
	}
	struct ipv6hdr *ip6 = p->data + p->l3_off;
	if ((void *)(ip6 + 1) > p->data_end)
		return 0;
	struct xt_resp_prefix6 k = { .prefixlen = 128 };
	__builtin_memcpy(k.addr, &ip6->saddr, 16);
	return bpf_map_lookup_elem(&resp_from6, &k) != NULL;
}

/* Is the destination an address of this host (and, with --address, one of the service's)? A
 * query to any other address is transit: the host would forward it or drop it, never answer it,
 * and a reply forged from that address would hijack another server's traffic. */
static __always_inline int xt_resp_listed4(const struct xt_resp_local_list *l, __u32 daddr)
{
	if (!l)
		return 0;
	for (int i = 0; i < XT_RESP_LIST4; i++) {
		if (i >= l->n4)
			return 0;
		if (l->a4[i] == daddr)
			return 1;
	}
	return 0;
}

static __always_inline int xt_resp_listed6(const struct xt_resp_local_list *l, const struct in6_addr *d)
{
	if (!l)
		return 0;
	const __u64 *q = (const __u64 *)d; /* IPv6 addresses in the header are 4-byte aligned at least */
	for (int i = 0; i < XT_RESP_LIST6; i++) {
		if (i >= l->n6)
			return 0;
		const __u64 *a = (const __u64 *)l->a6[i];
		if (a[0] == q[0] && a[1] == q[1])
			return 1;
	}
	return 0;
}

/* Is this address one of the host's own: in the short list, or (when the list is not the whole
 * story) in the tries? */
static __always_inline int xt_resp_local4(const struct xt_resp_local_list *l, __be32 addr)
{
	if (xt_resp_listed4(l, addr))
		return 1;
	if (l && (l->complete & 1))
		return 0;
	struct xt_resp_prefix4 k = { .prefixlen = 32 };
	__builtin_memcpy(k.addr, &addr, 4);
	return bpf_map_lookup_elem(&resp_local4, &k) != NULL;
}

static __always_inline int xt_resp_local6(const struct xt_resp_local_list *l, const struct in6_addr *addr)
{
	if (xt_resp_listed6(l, addr))
		return 1;
	if (l && (l->complete & 2))
		return 0;
	struct xt_resp_prefix6 k = { .prefixlen = 128 };
	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&resp_local6, &k) != NULL;
}

static __always_inline int xt_resp_dest_ours(struct xt_pkt *p, const struct xt_resp_config *cfg)
{
	struct xt_resp_source a = {};
	__u32 zero = 0;
	const struct xt_resp_local_list *l = bpf_map_lookup_elem(&resp_local_list, &zero);

	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return 0;
		if (!xt_resp_local4(l, ip->daddr))
			return 0;
		a.family = 4;
		__builtin_memcpy(a.addr, &ip->daddr, 4);
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return 0;
		if (!xt_resp_local6(l, &ip6->daddr))
			return 0;
		a.family = 6;
		__builtin_memcpy(a.addr, &ip6->daddr, 16);
	}
	return !(cfg->flags & XT_RESP_F_ADDRESS) || bpf_map_lookup_elem(&resp_addrs, &a);
}

/* UDP source ports a reply must never go to: 0 is no port at all, and echo (7), daytime (13),
 * qotd (17), chargen (19) and time (37) answer anything sent to them — a query spoofed from one
 * of them would start a reply loop between that service and us (or the server behind us). */
#define XT_RESP_REFLECT_PORTS ((1ULL << 0) | (1ULL << 7) | (1ULL << 13) | (1ULL << 17) | (1ULL << 19) | (1ULL << 37))

/* A source no query from the wire can really have: loopback (127.0.0.0/8, ::1) or an address of
 * this host. The reply would go to ourselves, or wherever the forger wants the stack to send it.
 * In IPv6 all of ::/96 and ::ffff:0:0/96 too: the unspecified address ::, the deprecated
 * IPv4-compatible ::a.b.c.d, and IPv4-mapped addresses, which never appear on the wire (RFC 4291
 * §2.5.5.2) — ::ffff:127.0.0.1 is loopback by another name, ::ffff:<our IPv4> ourselves. Linux 6.18
 * delivers such datagrams to UDP sockets all the same (measured in the lab), so it is no guard. */
static __always_inline int xt_resp_source_martian(struct xt_pkt *p)
{
	__u32 zero = 0;
	const struct xt_resp_local_list *l = bpf_map_lookup_elem(&resp_local_list, &zero);

	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return 1;
		return (bpf_ntohl(ip->saddr) >> 24) == 127 || xt_resp_local4(l, ip->saddr);
	}
	struct ipv6hdr *ip6 = p->data + p->l3_off;
	if ((void *)(ip6 + 1) > p->data_end)
		return 1;
	const __u32 *a = ip6->saddr.in6_u.u6_addr32;
	if ((a[0] | a[1]) == 0 && (a[2] == 0 || a[2] == bpf_htonl(0xffff))) /* ::/96, ::ffff:0:0/96 */
		return 1;
	return xt_resp_local6(l, &ip6->saddr);
}

/* Clear the host bits of an address beyond `plen` (bytes of it). */
static __always_inline void xt_resp_mask(__u8 *a, int bytes, __u32 plen)
{
	/* Constant bound 16 (the largest address), unrolled; `bytes` (4 or 16) only breaks out. */
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (i >= bytes)
			break;
		int bits = (int)plen - i * 8;
		if (bits <= 0)
			a[i] = 0;
		else if (bits < 8)
			a[i] &= (__u8)(0xff << (8 - bits));
	}
}

enum { XT_RESP_RATE_UNDER, XT_RESP_RATE_SLIP, XT_RESP_RATE_DROP };

/* Token bucket per aggregated source: `rate` tokens per second, at most one second's worth. */
static __always_inline int xt_resp_rate(struct xt_pkt *p, const struct xt_resp_config *cfg)
{
	struct xt_resp_source k = {};
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return XT_RESP_RATE_UNDER;
		k.family = 4;
		__builtin_memcpy(k.addr, &ip->saddr, 4);
		xt_resp_mask(k.addr, 4, cfg->v4_prefix);
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return XT_RESP_RATE_UNDER;
		k.family = 6;
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		xt_resp_mask(k.addr, 16, cfg->v6_prefix);
	}
	const __u64 one = 1000000000ULL; /* one query, in tokens */
	__u64 now = bpf_ktime_get_ns();
	__u64 cap = (__u64)cfg->rate * one;
	struct xt_resp_bucket *b = bpf_map_lookup_elem(&resp_rate, &k);
	if (!b) {
		/* First query of this source: a full bucket minus this query. */
		struct xt_resp_bucket nb = { .stamp_ns = now, .tokens = cap - one };
		bpf_map_update_elem(&resp_rate, &k, &nb, BPF_ANY);
		return XT_RESP_RATE_UNDER;
	}
	/* Shared across CPUs without locks: two CPUs may refill the same bucket at once, which only
	 * makes the limit a little generous; it never answers a source that stays under it. */
	__u64 elapsed = now - b->stamp_ns;
	if (elapsed > one)
		elapsed = one; /* a full bucket at most; also keeps elapsed · rate from overflowing */
	__u64 tokens = b->tokens + elapsed * cfg->rate;
	if (tokens > cap)
		tokens = cap;
	b->stamp_ns = now;
	if (tokens >= one) {
		b->tokens = tokens - one;
		return XT_RESP_RATE_UNDER;
	}
	b->tokens = tokens;
	__u64 n = ++b->over;
	__u32 slip = cfg->slip ? cfg->slip : 1;
	return n % slip == 0 ? XT_RESP_RATE_SLIP : XT_RESP_RATE_DROP;
}

#endif
