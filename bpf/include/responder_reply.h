/* responder_reply.h — the query turned into its reply in place: addresses swapped, header
 * rewritten (QR, TC), everything after the question cut off, checksums computed afresh. */
#ifndef XDPTOOL_RESPONDER_REPLY_H
#define XDPTOOL_RESPONDER_REPLY_H

#include "responder_maps.h"

/* Ones'-complement fold of a 64-bit sum of 16- and 32-bit words (as they lie in memory) into the
 * 16-bit Internet checksum: add the carries back in until none is left (four rounds are enough
 * for any 64-bit value). */
static __always_inline __u16 xt_csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* What the query's EDNS OPT record asks of the reply (RFC 6891). */
#define XT_RESP_EDNS_OPT 1     /* the query had one: so must the reply (§7) */
#define XT_RESP_EDNS_DO 2      /* DNSSEC OK: copied into the reply (RFC 3225 §3) */
#define XT_RESP_EDNS_BADVERS 4 /* VERSION ≠ 0: we only speak 0, the answer is BADVERS (§6.1.3) */
#define XT_RESP_OPT_LEN 11     /* root name, TYPE, CLASS, TTL, RDLENGTH 0: an OPT without options */
/* The UDP payload size our OPT advertises: 1232, the DNS Flag Day 2020 value dnsdist uses too. It
 * only matters for the client's next UDP query, and a TC reply sends it to TCP anyway. */
#define XT_RESP_EDNS_SIZE 1232

/* Turn the query in place into the reply: swap addresses, rewrite the header, cut after the
 * question (and the OPT record, rewritten, when the query had one), fix lengths and checksums.
 * `seg_len` is the UDP length up to the end of the question; s->edns the XT_RESP_EDNS_* bits.
 *
 * The IP, UDP and DNS headers are read as 32-bit words first, made into the reply's words in
 * registers, summed there and written whole, each once, rather than written field by field and
 * read back for the sums (a read straddling fields just stored waits for them to reach the cache:
 * a CPU forwards a store only to a read it covers whole). The words are little-endian
 * (responder_name.h refuses to build otherwise): a field's bytes in network order sit at its
 * shift. */
static __always_inline int xt_resp_rewrite(struct xdp_md *ctx, struct xt_pkt *p, __u32 seg_len, struct xt_resp_scratch *s)
{
	__u32 edns = s->edns;
	__u32 opt_off = p->l4_off + seg_len; /* where the query's OPT begins and the reply's is written */
	__u32 qlen = seg_len - sizeof(struct udphdr) - sizeof(struct xt_dnshdr); /* the question's bytes */
	/* The query's OPT, already checked to hold at least these 11 bytes, becomes ours: the same
	 * length in the same place, so the reply still never outgrows the query. The bits are used
	 * by arithmetic rather than branches where they can be: one path for the verifier. */
	__u32 has_opt = edns & XT_RESP_EDNS_OPT;
	__u32 badvers = (edns >> 2) & 1; /* XT_RESP_EDNS_BADVERS */
	seg_len += has_opt * XT_RESP_OPT_LEN;
	/* Each header is re-checked before it is written, though xt_responder_stage checked it already: see
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

	/* The UDP checksum (RFC 768; RFC 8200 §8.1 for IPv6) as a ones'-complement sum of the reply's
	 * words as they lie in memory (folded, it is the checksum in network order): the pseudo-header
	 * (addresses, protocol, UDP length), the UDP and DNS headers, the question (summed by the label
	 * walk from its copy in scratch, s->qsum) and our OPT (eleven bytes we chose: constants). */
	__u64 sum;
	if (p->l3_proto == ETH_P_IP) {
		__u32 *w = p->data + p->l3_off;
		if ((void *)(w + 5) > p->data_end)
			return XDP_ABORTED;
		/* Version/IHL, TOS, total length | ID, fragment | TTL, protocol, checksum | addresses. */
		__u32 w0 = (w[0] & 0xffff) | (__u32)bpf_htons(sizeof(struct iphdr) + seg_len) << 16;
		__u32 w1 = w[1], w2 = (w[2] & 0xff00) | 64 /* TTL; the checksum 0 while summed */;
		__u32 src = w[3], dst = w[4];
		/* Recomputed whole over the 20 bytes (IHL 5 was checked: no options). */
		w2 |= (__u32)xt_csum_fold((__u64)w0 + w1 + w2 + src + dst) << 16;
		w[0] = w0;
		w[2] = w2;
		w[3] = dst;
		w[4] = src;
		sum = (__u64)src + dst + bpf_htons(IPPROTO_UDP) + bpf_htons(seg_len);
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return XDP_ABORTED;
		struct in6_addr a = ip6->saddr, b = ip6->daddr;
		const __u32 *a6 = a.in6_u.u6_addr32, *b6 = b.in6_u.u6_addr32;
		sum = (__u64)a6[0] + a6[1] + a6[2] + a6[3] + b6[0] + b6[1] + b6[2] + b6[3] +
		      bpf_htonl(seg_len) + bpf_htonl(IPPROTO_UDP);
		ip6->saddr = b;
		ip6->daddr = a;
		ip6->hop_limit = 64;
		ip6->payload_len = bpf_htons(seg_len); /* IPv6 has no header checksum */
	}

	/* The UDP header and the DNS header's first 12 bytes: five words. */
	__u32 *u = p->data + p->l4_off;
	if ((void *)(u + 5) > p->data_end)
		return XDP_ABORTED;
	__u32 ports = u[0], id_flags = u[2], qd_an = u[3];
	ports = (ports >> 16) | (ports << 16); /* source and destination swapped */
	/* Keep ID, opcode (QUERY) and RD; set QR and TC; AA=0; RCODE=NOERROR; keep CD (RFC 6840);
	 * AD, Z = 0. RA copies RD, as dnsdist's TCAction does: a stub that asked for recursion and
	 * sees RA=0 warns or gives up on the server, and the TC reply carries no data to be wrong
	 * about — the answer over TCP has the server's own RA. BADVERS is a complete answer, not a
	 * truncated one: no TC, the client retries with version 0 over UDP and then gets TC. */
	__u32 f1 = (id_flags >> 16) & 0xff, f2 = id_flags >> 24, rd = f1 & XT_DNS_RD;
	f1 = XT_DNS_QR | ((badvers ^ 1) << 1) /* XT_DNS_TC */ | (f1 & XT_DNS_OPCODE) | rd;
	f2 = (f2 & XT_DNS_CD) | (rd << 7) /* XT_DNS_RA */;
	id_flags = (id_flags & 0xffff) | f1 << 16 | f2 << 24;
	qd_an &= 0xffff;                                    /* QDCOUNT kept (1), ANCOUNT 0 */
	__u32 ns_ar = (__u32)bpf_htons((__u16)has_opt) << 16; /* NSCOUNT 0, ARCOUNT: our OPT */
	__u32 len_check = bpf_htons(seg_len);              /* the checksum 0 while summed */
	sum += (__u64)ports + len_check + id_flags + qd_an + ns_ar;

	/* The question (5 bytes, the root name, to XT_RESP_QUESTION_MAX), summed by the label walk. */
	__u32 q = qlen;
	if (q < 5 || q > XT_RESP_QUESTION_MAX)
		return XDP_ABORTED;
	sum += s->qsum;
	if (has_opt) {
		/* Root 00, TYPE 00 29, CLASS 04 d0 (1232), TTL: extended RCODE, VERSION 0, flags (DO),
		 * 00, RDLENGTH 00 00 — as 16-bit words from the OPT's first byte, in memory order. The
		 * OPT follows the question at segment offset 20 + qlen: when that is odd, each of its
		 * bytes sits in the other half of its word, and the ones'-complement sum of byte-swapped
		 * words is the byte-swapped sum (RFC 1071 §2(B)). */
		__u32 o = 0x0429 + 0x00d0 + (badvers << 8) + (((edns & XT_RESP_EDNS_DO) << 6) << 8);
		if (q & 1)
			o = ((o & 0xff) << 8) | (o >> 8);
		sum += o;
	}
	__u16 c = xt_csum_fold(sum);
	len_check |= (__u32)(c ? c : 0xffff) << 16; /* 0 means "no checksum" in UDP: send its other form */
	u[0] = ports;
	u[1] = len_check;
	u[2] = id_flags;
	u[3] = qd_an;
	u[4] = ns_ar;

	if (has_opt) {
		/* From CLASS on (the root name and TYPE 41 are already there): our payload size; TTL =
		 * extended RCODE (BADVERS = 16 is 1 here and 0 in the header), VERSION 0, DO copied, the
		 * other flag bits 0; RDLENGTH 0 — the query's options (COOKIE, NSID, ECS, padding…) are
		 * dropped: docs/07-xdp-tx.md says why. */
		__u8 tail[8] = { XT_RESP_EDNS_SIZE >> 8, XT_RESP_EDNS_SIZE & 0xff, badvers, 0,
				 (edns & XT_RESP_EDNS_DO) << 6 /* 2 → 0x80 */, 0, 0, 0 };
		if (bpf_xdp_store_bytes(ctx, opt_off + 3, tail, sizeof(tail)))
			return XDP_ABORTED;
	}

	/* Cut the frame after the question, or after our OPT (drops the query's EDNS options and any
	 * padding). Never grows: seg_len fits in what the query had, which was checked before. */
	int delta = (int)(p->l4_off + seg_len) - (int)(p->data_end - p->data);
	if (delta > 0)
		return XDP_ABORTED;
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return XDP_ABORTED;
	/* adjust_tail invalidates every packet pointer: what runs after (the sampler, the counters)
	 * takes them from here. */
	p->data = (void *)(long)ctx->data;
	p->data_end = (void *)(long)ctx->data_end;
	p->eth = p->data;
	return XDP_TX;
}

#endif
