/* responder.h — the DNS "TC bit" responder stage: answer plain UDP queries with an empty,
 * truncated reply (TC=1) sent straight back out with XDP_TX.
 *
 * A real resolver retries a truncated answer over TCP, which a spoofed-source flood cannot do; so
 * under attack the authoritative server only sees clients that completed a TCP handshake.
 *
 * xt_responder_stage(ctx, pkt) takes an already parsed packet (parsing.h) and returns the verdict:
 * XDP_TX (reply written in place), XDP_DROP (over the rate limit and not slipped, or a reflection
 * source) or XDP_PASS (not ours: a combined program moves on to its next stage). Anything that is not a plain, well formed
 * query passes untouched. The reply is the query's own header and question (and, when the query
 * had an EDNS OPT record, an option-less OPT of ours in its place), cut after that, so it is never
 * larger than the query: no amplification. Queries from sources no reply may go to are dropped
 * (never a reflector); with --unverified-only, TCP segments verify sources (responder_verify.h).
 */
#ifndef XDPTOOL_RESPONDER_H
#define XDPTOOL_RESPONDER_H

#include "responder_maps.h"   /* maps, counters, scratch */
#include "responder_name.h"   /* the question name */
#include "responder_select.h" /* port, source, destination, rate */
#include "responder_reply.h"  /* the reply, in place */
#include "responder_verify.h" /* --unverified-only: sources verified by TCP */

/* The stage: checks from the cheapest and most common "not ours" down to the name walk, then the
 * selection, then the rewrite. Every exit is counted by reason in resp_stats. */
static __always_inline int xt_responder_stage(struct xdp_md *ctx, struct xt_pkt *p)
{
	__u32 zero = 0;
	struct xt_resp_config *cfg = bpf_map_lookup_elem(&resp_config, &zero);
	struct xt_resp_scratch *s = xt_resp_scratch();
	if (!cfg || !s || cfg->nports == 0)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);

	/* --unverified-only watches TCP to our ports: a connection verifies its source. */
	if (p->l4_proto == IPPROTO_TCP && (cfg->flags & XT_RESP_F_UNVERIFIED))
		return xt_resp_tcp_verify(ctx, p, cfg);

	/* Plain UDP over IPv4 without options, or IPv6 without extension headers, at most one VLAN
	 * tag, not a fragment, to one of our ports. */
	if (p->truncated || p->vlans > 1 || p->l4_proto != IPPROTO_UDP || p->fragment || !p->l4_off)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
#ifdef XT_XDP_FRAGS
	/* The reply is written in the first buffer: a query spread over several (the combined
	 * program is xdp.frags, see xdptool.bpf.c) is no plain query. A program without xdp.frags
	 * is never given one, and keeps its older kernel floor (no bpf_xdp_get_buff_len). */
	if (bpf_xdp_get_buff_len(ctx) != (__u64)(p->data_end - p->data))
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
#endif
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

	/* Never a reflector: a query to us from a source no reply may go to is dropped, not passed.
	 * No real client sends from these ports or addresses, so nothing legitimate is lost; the
	 * server behind would answer them just the same if passed; and passing would let a flood
	 * bypass the responder by choosing such a source. Linux drops the martian sources itself
	 * (IPv4), later and at a higher price. */
	uh = p->data + p->l4_off;
	if ((void *)(uh + 1) > p->data_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	__u16 sport = bpf_ntohs(uh->source);
	if (sport < 64 && ((1ULL << sport) & XT_RESP_REFLECT_PORTS))
		return xt_resp_verdict(XT_RESP_REFLECT_PORT, XDP_DROP);
	if (xt_resp_source_martian(p))
		return xt_resp_verdict(XT_RESP_MARTIAN_SOURCE, XDP_DROP);

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
	/* What the label walk needs for the first --qname lookup (responder_name.h). */
	s->want = cfg->flags & XT_RESP_F_QNAME;
	s->mul = cfg->hash_mul;
	s->max = cfg->qname_max;
	s->base = cfg->name_base;
	int len = xt_resp_read_name(ctx, qname, udp_end, s, cfg->qname_min);
	if (len < 0)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	__u32 seg_len = sizeof(*udp) + sizeof(*dns) + len + 1 + 4; /* + root byte + QTYPE, QCLASS */
	if (p->l4_off + seg_len > udp_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS); /* QTYPE/QCLASS missing */
	/* The one additional record allowed is EDNS OPT: root name, TYPE 41. A TSIG or SIG(0)
	 * signature would be cut off with the tail, and its client rejects an unsigned reply; a
	 * signed query is no spoofed flood anyway. The OPT's fixed part (11 bytes) and its options
	 * must lie inside the UDP payload: the reply takes an OPT of the same 11 bytes in place. */
	s->edns = 0; /* XT_RESP_EDNS_* bits for the reply (responder_reply.h) */
	if (dns->arcount) {
		__u8 rr[11];
		if (p->l4_off + seg_len + sizeof(rr) > udp_end ||
		    bpf_xdp_load_bytes(ctx, p->l4_off + seg_len, rr, sizeof(rr)))
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
		if (rr[0] != 0 || rr[1] != 0 || rr[2] != 41)
			return xt_resp_verdict(XT_RESP_NOT_QUERY, XDP_PASS);
		if (p->l4_off + seg_len + sizeof(rr) + ((rr[9] << 8) | rr[10]) > udp_end)
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS); /* RDLENGTH past the payload */
		/* TTL field: extended RCODE (rr[5]), VERSION (rr[6]), DO and Z flags (rr[7..8]). */
		s->edns = XT_RESP_EDNS_OPT | (rr[7] & 0x80 ? XT_RESP_EDNS_DO : 0) | (rr[6] ? XT_RESP_EDNS_BADVERS : 0);
	}

	/* Selection: every enabled mode must agree. */
	if ((cfg->flags & XT_RESP_F_FROM) && !xt_resp_from_listed(p))
		return xt_resp_verdict(XT_RESP_NO_MATCH, XDP_PASS);
	if ((cfg->flags & XT_RESP_F_QNAME) && !xt_resp_name_listed(s, len))
		return xt_resp_verdict(XT_RESP_NO_MATCH, XDP_PASS);
	/* Before --over: a verified source goes to the server whatever its rate (it is a real client)
	 * and does not use up its bucket. */
	if ((cfg->flags & XT_RESP_F_UNVERIFIED) && xt_resp_source_verified(p, cfg))
		return xt_resp_verdict(XT_RESP_PASSED_VERIFIED, XDP_PASS);
	if (cfg->flags & XT_RESP_F_OVER) {
		int r = xt_resp_rate(p, cfg);
		if (r == XT_RESP_RATE_UNDER)
			return xt_resp_verdict(XT_RESP_UNDER_RATE, XDP_PASS);
		if (r == XT_RESP_RATE_DROP)
			return xt_resp_verdict(XT_RESP_SLIP_DROPPED, XDP_DROP);
	}

	int action = xt_resp_rewrite(ctx, p, seg_len, s);
	if (action == XDP_TX) {
		xt_resp_verdict(XT_RESP_ANSWERED, 0); /* counts only; the action returned is ours */
		if (cfg->flags & XT_RESP_F_UNVERIFIED)
			xt_resp_verdict(XT_RESP_ANSWERED_UNVERIFIED, 0);
	}
	return action;
}

#endif
