/* responder.h — the DNS "TC bit" responder stage: answer plain UDP queries with an empty,
 * truncated reply (TC=1) sent straight back out with XDP_TX.
 *
 * A real resolver retries a truncated answer over TCP, which a spoofed-source flood cannot do; so
 * under attack the authoritative server only sees clients that completed a TCP handshake.
 *
 * xt_responder(ctx, pkt) takes an already parsed packet (parsing.h) and returns the verdict:
 * XDP_TX (reply written in place), XDP_DROP (over the rate limit, not slipped) or XDP_PASS (not
 * ours: a combined program moves on to its next stage). Anything that is not a plain, well formed
 * query passes untouched. The reply is the query's own header and question, cut after the
 * question, so it is never larger than the query: no amplification.
 */
#ifndef XDPTOOL_RESPONDER_H
#define XDPTOOL_RESPONDER_H

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

/* …the --qname suffixes, by (length, hash) — see struct xt_resp_name… */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xt_resp_name);
	__type(value, __u8);
} resp_names SEC(".maps");

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

/* Per-CPU scratch: the lowercased question name, its label starts, and a copy of the reply's UDP
 * segment for the checksum (bpf_csum_diff needs a variable-length region the verifier can bound,
 * which a map value is and a packet is not). 512 bytes for seg: the masks below cap it there.
 * 1 KiB would not fit on the 512-byte BPF stack; per-CPU, because XDP runs on every CPU at once,
 * and on one CPU a run completes before the next begins (softirq): each copy needs no lock. */
struct xt_resp_scratch {
	__u8 name[256];
	__u8 start[256];
	__u8 seg[512];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_resp_scratch);
} resp_scratch SEC(".maps");

/* Longest reply UDP segment: UDP 8 + DNS header 12 + name 255 + QTYPE/QCLASS 4. */
#define XT_RESP_SEG_MAX (8 + 12 + XT_DNS_NAME_MAX + 4)

static __always_inline int xt_resp_verdict(__u32 reason, int action)
{
	__u64 *c = bpf_map_lookup_elem(&resp_stats, &reason);

	if (c)
		*c += 1; /* per-CPU slot: no atomics needed */
	return action;
}

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

/* Ones'-complement fold of bpf_csum_diff's 64-bit result into the 16-bit Internet checksum: add the
 * carries back in until none is left (four rounds are enough for any 64-bit value). */
static __always_inline __u16 xt_csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline struct xt_resp_scratch *xt_resp_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&resp_scratch, &zero);
}

/* The name loops run under bpf_loop(): the verifier checks the callback once for any index,
 * instead of walking up to 255 iterations per path (which exceeds its 1M-instruction budget). */
struct xt_resp_name_walk {
	struct xt_resp_scratch *s; /* passed in, not looked up per call: 146 → 113 ns per unlisted name */
	__u32 avail; /* bytes of the question copied into scratch */
	__u32 next;  /* index of the next length byte */
	int len;     /* name length without the root byte; -1 until the root byte is seen */
};

static long xt_resp_name_step(__u64 index, void *arg)
{
	struct xt_resp_name_walk *w = arg;
	struct xt_resp_scratch *s = w->s;
	/* The callback is verified once for ANY index: without the mask, s->name[i] is an "unbounded
	 * memory access". & 0xff proves i < 256 = sizeof(s->name); avail (≤ 255) is the real limit. */
	__u32 i = index & 0xff;

	if (!s || i >= w->avail)
		return 1; /* ran past the UDP payload: len stays -1 */
	__u8 c = s->name[i];
	if (i == w->next) {
		if (c == 0) {
			w->len = i;
			return 1;
		}
		/* A length byte's top two bits are its type: 00 a label (≤ 63 bytes), 11 a compression
		 * pointer (0xC0), 01/10 extended/reserved. Only plain labels are followed: a pointer
		 * would jump to an offset the packet chooses, maybe backwards, maybe in a loop. */
		if (c > XT_DNS_LABEL_MAX)
			return 1; /* 0xC0 compression pointer, or an extended label type */
		w->next = i + 1 + c; /* past i + c when the label runs off the copy: ends as -1 above */
		s->start[i] = 1;
	} else {
		s->name[i] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		s->start[i] = 0;
	}
	return 0;
}

/*
 * Copy the question name, starting at byte `off` of the frame and ending before `limit` (end of
 * the UDP payload), into scratch, lowercased, and check it is plain: no compression pointer,
 * labels ≤ 63, the whole name ≤ 255 bytes. Returns its length without the root byte, or -1.
 */
static __always_inline int xt_resp_read_name(struct xdp_md *ctx, __u32 off, __u32 limit, struct xt_resp_scratch *s)
{
	if (off >= limit)
		return -1;
	/* One helper call copies the name out of the packet: reading it in place would need a
	 * data_end check per byte at a packet-chosen offset. The verifier wants the length proven
	 * to lie in [1, sizeof(s->name)] right here: without the clamp it is unbounded, and without
	 * `n < 1` it rejects "invalid zero-sized read", although off < limit already implies n ≥ 1. */
	__u32 n = limit - off;
	if (n > XT_DNS_NAME_MAX)
		n = XT_DNS_NAME_MAX; /* a longer name has no root byte in the first 255: rejected below */
	if (n < 1 || bpf_xdp_load_bytes(ctx, off, s->name, n))
		return -1;
	struct xt_resp_name_walk w = { .s = s, .avail = n, .len = -1 };
	bpf_loop(XT_DNS_NAME_MAX, xt_resp_name_step, &w, 0);
	return w.len;
}

struct xt_resp_suffix_walk {
	struct xt_resp_scratch *s;
	int len;
	__u64 mul;
	__u64 h;
	int found;
};

static long xt_resp_suffix_step(__u64 index, void *arg)
{
	struct xt_resp_suffix_walk *w = arg;
	struct xt_resp_scratch *s = w->s;
	int i = w->len - 1 - (int)index; /* from the last byte of the name backwards */

	/* i < 0: done (a name that was not listed). `i & 0xff` below: the verifier does not carry
	 * 0 ≤ i < len ≤ 254 into the callback, and rejects the unmasked index as unbounded. */
	if (!s || i < 0)
		return 1;
	w->h = w->h * w->mul + (__u64)s->name[i & 0xff] + 1;
	if (s->start[i & 0xff]) {
		struct xt_resp_name k = { .len = w->len - i, .hash = w->h };
		if (bpf_map_lookup_elem(&resp_names, &k)) {
			w->found = 1;
			return 1;
		}
	}
	return 0;
}

/* Is some suffix of the name (starting at a label boundary) in resp_names? Walk from the last byte
 * back, extending the hash one byte at a time, and look up at each label start. So `example.test`
 * matches www.Example.TEST but not badexample.test (no label starts at "example" there). */
static __always_inline int xt_resp_name_listed(struct xt_resp_scratch *s, int len, __u64 mul)
{
	struct xt_resp_suffix_walk w = { .s = s, .len = len, .mul = mul };

	bpf_loop(XT_DNS_NAME_MAX, xt_resp_suffix_step, &w, 0);
	return w.found;
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

static __always_inline int xt_resp_dest_ours(struct xt_pkt *p, const struct xt_resp_config *cfg)
{
	struct xt_resp_source a = {};
	__u32 zero = 0;
	const struct xt_resp_local_list *l = bpf_map_lookup_elem(&resp_local_list, &zero);

	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return 0;
		if (!xt_resp_listed4(l, ip->daddr)) {
			if (l && (l->complete & 1))
				return 0;
			struct xt_resp_prefix4 k = { .prefixlen = 32 };
			__builtin_memcpy(k.addr, &ip->daddr, 4);
			if (!bpf_map_lookup_elem(&resp_local4, &k))
				return 0;
		}
		a.family = 4;
		__builtin_memcpy(a.addr, &ip->daddr, 4);
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return 0;
		if (!xt_resp_listed6(l, &ip6->daddr)) {
			if (l && (l->complete & 2))
				return 0;
			struct xt_resp_prefix6 k = { .prefixlen = 128 };
			__builtin_memcpy(k.addr, &ip6->daddr, 16);
			if (!bpf_map_lookup_elem(&resp_local6, &k))
				return 0;
		}
		a.family = 6;
		__builtin_memcpy(a.addr, &ip6->daddr, 16);
	}
	return !(cfg->flags & XT_RESP_F_ADDRESS) || bpf_map_lookup_elem(&resp_addrs, &a);
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

/* Turn the query in place into the reply: swap addresses, rewrite the header, cut after the
 * question, fix lengths and checksums. `seg_len` is the reply's UDP length. */
static __always_inline int xt_resp_rewrite(struct xdp_md *ctx, struct xt_pkt *p, __u32 seg_len, struct xt_resp_scratch *s)
{
	/* Each header is re-checked before it is written, though xt_responder checked it already: see
	 * xt_resp_from_listed. Were a check ever to fail, XDP_ABORTED makes the bug visible (the
	 * xdp_exception tracepoint, the ABORTED counter) instead of sending a half-built reply. */
	struct ethhdr *eth = p->data;
	if ((void *)(eth + 1) > p->data_end)
		return XDP_ABORTED;
	/* Reply to whoever sent it: swap the MACs (through a stack copy; they do not overlap). */
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);

	struct udphdr *udp = p->data + p->l4_off;
	if ((void *)(udp + 1) + sizeof(struct xt_dnshdr) > p->data_end) /* one check: UDP + DNS headers */
		return XDP_ABORTED;
	__be16 port = udp->source;
	udp->source = udp->dest;
	udp->dest = port;
	udp->len = bpf_htons(seg_len);
	udp->check = 0; /* computed at the end, once the frame has its final length */

	struct xt_dnshdr *dns = (void *)(udp + 1);
	/* Keep ID, opcode (QUERY) and RD; set QR and TC; AA=0; RCODE=NOERROR; keep CD (RFC 6840). */
	dns->flags1 = XT_DNS_QR | XT_DNS_TC | (dns->flags1 & (XT_DNS_OPCODE | XT_DNS_RD));
	dns->flags2 = dns->flags2 & XT_DNS_CD;
	dns->ancount = 0;
	dns->nscount = 0;
	dns->arcount = 0; /* any EDNS OPT record is cut off with the tail */

	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return XDP_ABORTED;
		__be32 a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
		ip->ttl = 64;
		ip->tot_len = bpf_htons(sizeof(*ip) + seg_len);
		/* Recomputed whole over the 20 bytes (IHL 5 was checked: no options), with the checksum
		 * field zeroed first: simpler to check than three incremental updates. */
		ip->check = 0;
		ip->check = xt_csum_fold(bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0));
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return XDP_ABORTED;
		struct in6_addr a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
		ip6->hop_limit = 64;
		ip6->payload_len = bpf_htons(seg_len); /* IPv6 has no header checksum */
	}

	/* Cut the frame after the question (drops EDNS and any padding). Never grows: seg_len fits in
	 * what the query had, which was checked before. */
	int delta = (int)(p->l4_off + seg_len) - (int)(p->data_end - p->data);
	if (delta > 0)
		return XDP_ABORTED;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return XDP_ABORTED;
	/* adjust_tail invalidates every packet pointer: re-derive and re-check from here on. */
	p->data = (void *)(long)ctx->data;
	p->data_end = (void *)(long)ctx->data_end;
	p->eth = p->data;

	/* UDP checksum over pseudo-header + segment, computed in full (the query's own checksum may
	 * be absent or wrong). Copy the segment, zero-padded to 4 bytes, into scratch.
	 * bpf_csum_diff sums whole 32-bit words, so the length is rounded up to a multiple of 4 and
	 * the word the segment ends in is zeroed first (the copy then overwrites its leading bytes).
	 * The range check gives the verifier the bounds bpf_xdp_load_bytes needs (1 ≤ seg_len ≤ 279);
	 * the 0x1fc masks restate, next to each use, that both stay inside seg[512]. */
	if (seg_len < 8 + 12 + 1 + 4 || seg_len > XT_RESP_SEG_MAX)
		return XDP_ABORTED;
	__u32 words = (seg_len + 3) & 0x1fc;
	*(__u32 *)&s->seg[(seg_len & 0x1fc)] = 0;
	if (bpf_xdp_load_bytes(ctx, p->l4_off, s->seg, seg_len))
		return XDP_ABORTED;
	/* The pseudo-header: addresses (already swapped), protocol and UDP length, as RFC 768 (IPv4)
	 * and RFC 8200 §8.1 (IPv6: 32-bit length, 3 zero bytes, next header) lay them out. */
	__s64 sum;
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return XDP_ABORTED;
		struct { __be32 s, d; __u8 z, proto; __be16 len; } ph = {
			.s = ip->saddr, .d = ip->daddr, .proto = IPPROTO_UDP, .len = bpf_htons(seg_len) };
		sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return XDP_ABORTED;
		struct { struct in6_addr s, d; __be32 len; __u8 z[3], nh; } ph = {
			.s = ip6->saddr, .d = ip6->daddr, .len = bpf_htonl(seg_len), .nh = IPPROTO_UDP };
		sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0) /* bpf_csum_diff returns a negative errno for a bad size */
		return XDP_ABORTED;
	sum = bpf_csum_diff(0, 0, (__be32 *)s->seg, words, (__wsum)sum);
	if (sum < 0)
		return XDP_ABORTED;
	__u16 c = xt_csum_fold(sum);
	udp = p->data + p->l4_off;
	if ((void *)(udp + 1) > p->data_end)
		return XDP_ABORTED;
	udp->check = c ? c : 0xffff; /* 0 means "no checksum" in UDP: send its other form */
	return XDP_TX;
}

/* The stage: checks from the cheapest and most common "not ours" down to the name walk, then the
 * selection, then the rewrite. Every exit is counted by reason in resp_stats. */
static __always_inline int xt_responder(struct xdp_md *ctx, struct xt_pkt *p)
{
	__u32 zero = 0;
	struct xt_resp_config *cfg = bpf_map_lookup_elem(&resp_config, &zero);
	struct xt_resp_scratch *s = xt_resp_scratch();
	if (!cfg || !s || cfg->nports == 0)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);

	/* Plain UDP over IPv4 without options, or IPv6 without extension headers, at most one VLAN
	 * tag, not a fragment, to one of our ports. */
	if (p->truncated || p->vlans > 1 || p->l4_proto != IPPROTO_UDP || p->fragment || !p->l4_off)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	/* The port is read here rather than from p->dport: clang rematerialises the pointer parsing.h
	 * checked, which the verifier then rejects; one check right before our own read avoids it. */
	struct udphdr *uh = p->data + p->l4_off;
	if ((void *)(uh + 1) > p->data_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	if (!xt_resp_port_ok(cfg, bpf_ntohs(uh->dest)))
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	/* Unicast only, both ways. A query to a group address (broadcast, multicast: mDNS on 5353)
	 * is not for this host alone, and a reply to a group source would go to everyone on the
	 * link — the reflection this responder exists to prevent. */
	struct ethhdr *eth = p->data;
	if ((void *)(eth + 1) > p->data_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	if ((eth->h_dest[0] | eth->h_source[0]) & 1) /* the I/G bit: a group MAC address */
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	/* Unicast to another station: seen only in promiscuous mode or on a mirror port. */
	const __u8 *d = eth->h_dest, *m = cfg->mac;
	if ((d[0] ^ m[0]) | (d[1] ^ m[1]) | (d[2] ^ m[2]) | (d[3] ^ m[3]) | (d[4] ^ m[4]) | (d[5] ^ m[5]))
		return xt_resp_verdict(XT_RESP_OTHER_MAC, XDP_PASS);
	__u32 frame = p->data_end - p->data;
	__u32 ip_end; /* where the IP packet ends (the frame may carry Ethernet padding after it) */
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
		if (ip->ihl != 5 || p->l4_off != p->l3_off + sizeof(*ip))
			return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS); /* IP options */
		/* 224.0.0.0/4 multicast, 240.0.0.0/4 reserved and 255.255.255.255, 0.0.0.0/8. */
		__u8 d0 = bpf_ntohl(ip->daddr) >> 24, s0 = bpf_ntohl(ip->saddr) >> 24;
		if (d0 >= 224 || s0 >= 224 || d0 == 0 || s0 == 0)
			return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
		ip_end = p->l3_off + bpf_ntohs(ip->tot_len);
	} else if (p->l3_proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
		if (ip6->version != 6)
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
		if (ip6->nexthdr != IPPROTO_UDP)
			return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS); /* extension headers */
		if (ip6->daddr.in6_u.u6_addr8[0] == 0xff || ip6->saddr.in6_u.u6_addr8[0] == 0xff)
			return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS); /* ff00::/8 multicast */
		ip_end = p->l3_off + sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	} else {
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	}

	if (!xt_resp_dest_ours(p, cfg))
		return xt_resp_verdict(XT_RESP_TRANSIT, XDP_PASS);

	struct udphdr *udp = p->data + p->l4_off;
	struct xt_dnshdr *dns = (void *)(udp + 1);
	if ((void *)(dns + 1) > p->data_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	/* IPv6 UDP without a checksum: RFC 8200 §8.1 forbids it and the stack discards it. */
	if (p->l3_proto == ETH_P_IPV6 && udp->check == 0)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	/* The UDP length must end exactly where the IP packet does, and both inside the frame; what
	 * lies after (Ethernet padding of a short frame) is not part of the query. */
	__u32 udp_end = p->l4_off + bpf_ntohs(udp->len);
	if (ip_end > frame || udp_end != ip_end || bpf_ntohs(udp->len) < sizeof(*udp) + sizeof(*dns))
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);

	/* A plain query: QR=0, opcode QUERY, one question, no answers or authority, at most one
	 * additional record (EDNS OPT). Anything else — responses above all, or we would answer
	 * answers and loop — goes to the server. */
	if ((dns->flags1 & (XT_DNS_QR | XT_DNS_OPCODE)) || dns->qdcount != bpf_htons(1) || dns->ancount ||
	    dns->nscount || bpf_ntohs(dns->arcount) > 1)
		return xt_resp_verdict(XT_RESP_NOT_QUERY, XDP_PASS);

	__u32 qname = p->l4_off + sizeof(*udp) + sizeof(*dns);
	int len = xt_resp_read_name(ctx, qname, udp_end, s);
	if (len < 0)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	__u32 seg_len = sizeof(*udp) + sizeof(*dns) + len + 1 + 4; /* + root byte + QTYPE, QCLASS */
	if (p->l4_off + seg_len > udp_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS); /* QTYPE/QCLASS missing */
	/* The one additional record allowed is EDNS OPT: root name, TYPE 41. A TSIG or SIG(0)
	 * signature would be cut off with the tail, and its client rejects an unsigned reply; a
	 * signed query is no spoofed flood anyway. */
	if (dns->arcount) {
		__u8 rr[3];
		if (p->l4_off + seg_len + sizeof(rr) > udp_end ||
		    bpf_xdp_load_bytes(ctx, p->l4_off + seg_len, rr, sizeof(rr)) ||
		    rr[0] != 0 || rr[1] != 0 || rr[2] != 41)
			return xt_resp_verdict(XT_RESP_NOT_QUERY, XDP_PASS);
	}

	/* Selection: every enabled mode must agree. */
	if ((cfg->flags & XT_RESP_F_FROM) && !xt_resp_from_listed(p))
		return xt_resp_verdict(XT_RESP_NO_MATCH, XDP_PASS);
	if ((cfg->flags & XT_RESP_F_QNAME) && !xt_resp_name_listed(s, len, cfg->hash_mul))
		return xt_resp_verdict(XT_RESP_NO_MATCH, XDP_PASS);
	if (cfg->flags & XT_RESP_F_OVER) {
		int r = xt_resp_rate(p, cfg);
		if (r == XT_RESP_RATE_UNDER)
			return xt_resp_verdict(XT_RESP_UNDER_RATE, XDP_PASS);
		if (r == XT_RESP_RATE_DROP)
			return xt_resp_verdict(XT_RESP_SLIP_DROPPED, XDP_DROP);
	}

	int action = xt_resp_rewrite(ctx, p, seg_len, s);
	if (action == XDP_TX)
		xt_resp_verdict(XT_RESP_ANSWERED, 0); /* counts only; the action returned is ours */
	return action;
}

#endif
