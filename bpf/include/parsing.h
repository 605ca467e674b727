/* parsing.h — parse a packet ONCE into `struct xt_pkt`, for every xdptool program.
 *
 * Rules for every helper here (the verifier enforces the first one; we keep the others):
 *  - every read is preceded, right next to it, by a check that the bytes lie before data_end;
 *  - every loop is bounded by a constant (the verifier must see that it terminates);
 *  - a helper returns 0 on success and -1 when the packet is too short or malformed, leaving
 *    what it parsed so far in `struct xt_pkt`, so the caller can still judge on L2/L3;
 *  - when L4 of an IP packet cannot be read, l4_unknown says why (enum xt_l4_unknown, xdptool.h):
 *    a rule on ports or protocols must fail closed on it rather than judge on L3 alone.
 */
#ifndef XDPTOOL_PARSING_H
#define XDPTOOL_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "xdptool.h"

#ifndef XT_VLAN_MAX_DEPTH
#define XT_VLAN_MAX_DEPTH 2 /* 802.1ad outer + 802.1Q inner */
#endif
#ifndef XT_IPV6_EXT_INLINE
#define XT_IPV6_EXT_INLINE 2 /* extension headers read in place; the rest of a chain goes to bpf_loop */
#endif
/* Linux itself sets no limit on the number of extension headers: measured on 6.18, a TCP SYN behind
 * 180 Destination Options headers (a 1514-byte frame) and behind 1117 (9010 bytes, MTU 9000) gets a
 * SYN-ACK. 8192 headers of at least 8 bytes fill any IPv6 payload (≤ 65535 bytes), so the walk ends
 * on the packet, never on this bound; a packet costs what its own chain is long. */
#ifndef XT_IPV6_EXT_MAX
#define XT_IPV6_EXT_MAX 8192
#endif

#define XT_L4_OFF_MAX 0x7fff /* an L4 header further into the frame is undecidable (CHAIN_LONG) */

#define XT_ETH_P_8021Q 0x8100
#define XT_ETH_P_8021AD 0x88A8
#define XT_ETH_P_ARP 0x0806

/* What one pass over the headers found. Offsets are from the start of the frame. */
struct xt_pkt {
	void *data;
	void *data_end;
	struct ethhdr *eth;
	__u16 l3_proto;   /* host order EtherType after VLAN tags */
	__u16 l3_off;
	__u16 l4_off;     /* 0 when there is no L4 header to read (later fragment, unknown) */
	__u8 vlans;       /* tags seen */
	__u8 l4_proto;    /* IPPROTO_*; for IPv6 the upper-layer protocol after extension headers */
	__u8 fragment;    /* 1 = first fragment, 2 = later fragment (no L4 header), 0 = not a fragment */
	__u8 truncated;   /* a header claimed by the previous one did not fit in the frame */
	__u8 l4_unknown;  /* enum xt_l4_unknown (xdptool.h): why L4 could not be read though it must exist */
	__u16 vlan_id[XT_VLAN_MAX_DEPTH];
	__u16 sport;      /* network order; 0 unless TCP/UDP header was read */
	__u16 dport;
};

struct xt_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline int xt_parse_l2(struct xt_pkt *p)
{
	struct ethhdr *eth = p->data;

	if ((void *)(eth + 1) > p->data_end) {
		p->truncated = 1;
		return -1;
	}
	p->eth = eth;
	__u16 proto = bpf_ntohs(eth->h_proto);
	__u16 off = sizeof(*eth);

#pragma unroll
	for (int i = 0; i < XT_VLAN_MAX_DEPTH; i++) {
		if (proto != XT_ETH_P_8021Q && proto != XT_ETH_P_8021AD)
			break;
		struct xt_vlan_hdr *vh = p->data + off;
		if ((void *)(vh + 1) > p->data_end) {
			p->truncated = 1;
			return -1;
		}
		p->vlan_id[i] = bpf_ntohs(vh->tci) & 0x0fff;
		p->vlans++;
		proto = bpf_ntohs(vh->proto);
		off += sizeof(*vh);
	}
	p->l3_proto = proto;
	p->l3_off = off;
	return 0;
}

/* Mark L4 as undecidable; the reason becomes FRAG_CUT in a first fragment (RFC 8200 §4.5). */
static __always_inline int xt_l4_cut(struct xt_pkt *p, __u8 reason)
{
	p->truncated = 1;
	p->l4_unknown = p->fragment == 1 ? XT_L4U_FRAG_CUT : reason;
	p->l4_off = 0;
	return -1;
}

/* `end`: where the IP packet ends in the frame (IP length or data_end, whichever first). */
static __always_inline int xt_parse_ports(struct xt_pkt *p, __u32 end)
{
	if (p->l4_proto != IPPROTO_TCP && p->l4_proto != IPPROTO_UDP)
		return 0;
	/* Ports are the first 4 bytes of both TCP and UDP headers. */
	__be16 *ports = p->data + p->l4_off;
	if ((void *)(ports + 2) > p->data_end || p->l4_off + 4 > end)
		return xt_l4_cut(p, XT_L4U_PORTS_CUT);
	p->sport = ports[0];
	p->dport = ports[1];
	return 0;
}

/* The end of the IP packet as an offset in the frame: the IP length, unless the frame is shorter
 * (then the stack drops it, and nothing past the frame can be read anyway). */
static __always_inline __u32 xt_ip_end(struct xt_pkt *p, __u32 ip_len)
{
	__u32 frame = p->data_end - p->data;
	__u32 end = p->l3_off + ip_len;

	return end < frame ? end : frame;
}

static __always_inline int xt_parse_ipv4(struct xt_pkt *p)
{
	struct iphdr *ip = p->data + p->l3_off;

	if ((void *)(ip + 1) > p->data_end)
		return xt_l4_cut(p, XT_L4U_IP_CUT);
	__u32 hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip) || ip->version != 4)
		return xt_l4_cut(p, XT_L4U_IP_CUT);
	p->l4_proto = ip->protocol;
	__u32 end = xt_ip_end(p, bpf_ntohs(ip->tot_len));
	__u16 frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff) {
		p->fragment = 2; /* offset > 0: no L4 header in this one */
		return 0;
	}
	if (frag & 0x2000)
		p->fragment = 1;
	if (p->l3_off + hlen > end) /* options run past the packet */
		return xt_l4_cut(p, XT_L4U_IP_CUT);
	/* hlen is at most 60, so the offset stays small and verifiable. */
	p->l4_off = p->l3_off + (hlen & 0x3c);
	return xt_parse_ports(p, end);
}

static __always_inline int xt_ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH || nh == 135 /* mobility */;
}

/* Where one extension-header walk stands: the header at `off` has type `nh`. */
struct xt_ext_walk {
	struct xdp_md *ctx;
	__u32 off;
	__u32 end;
	__u8 nh;
	__u8 fragment;
	__u8 cut;  /* the header at `off` runs past `end` */
};

/* Step over the extension header at w->off, given its first 4 bytes. 1 = the walk ends here. */
static __always_inline int xt_ext_next(struct xt_ext_walk *w, const __u8 *h)
{
	__u32 len;

	if (w->nh == IPPROTO_FRAGMENT) {
		__u16 fo = ((__u16)h[2] << 8) | h[3];
		w->fragment = (fo & 0xfff8) ? 2 : ((fo & 1) ? 1 : 0);
		len = 8;
	} else if (w->nh == IPPROTO_AH) {
		len = (h[1] + 2) * 4; /* AH counts 4-byte words, minus 2 */
	} else {
		len = (h[1] + 1) * 8; /* the others count 8-byte words, minus 1 */
	}
	w->nh = h[0];
	w->off += len;
	return w->fragment == 2; /* a later fragment: what follows is payload, not headers */
}

/* One header per call, under bpf_loop: the verifier checks the callback once, whatever the chain's
 * length. The header is read in place when it lies in the first 16 KiB (a variable packet offset
 * needs a bound the verifier can see: the mask, after a barrier that keeps clang from dropping
 * it); further in, through bpf_xdp_load_bytes, which checks the frame's bounds itself. */
static long xt_ext_step(__u64 i, void *arg)
{
	struct xt_ext_walk *w = arg;
	__u8 *data = (__u8 *)(long)w->ctx->data, *end = (__u8 *)(long)w->ctx->data_end;
	__u32 off = w->off;
	__u8 b[4];

	if (!xt_ipv6_is_ext(w->nh))
		return 1;
	/* 8 bytes: the smallest extension header; its own length is checked at the next step. */
	if (off + 8 > w->end) {
		w->cut = 1;
		return 1;
	}
	asm volatile("" : "+r"(off));
	__u8 *h = data + (off & 0x3fff);
	if (off <= 0x3fff && h + 4 <= end)
		return xt_ext_next(w, h);
	if (bpf_xdp_load_bytes(w->ctx, w->off, b, sizeof(b))) {
		w->cut = 1;
		return 1;
	}
	return xt_ext_next(w, b);
}

static __always_inline int xt_parse_ipv6(struct xdp_md *ctx, struct xt_pkt *p)
{
	struct ipv6hdr *ip6 = p->data + p->l3_off;

	if ((void *)(ip6 + 1) > p->data_end || ip6->version != 6)
		return xt_l4_cut(p, XT_L4U_IP_CUT);
	__u16 plen = bpf_ntohs(ip6->payload_len);
	/* Payload length 0: a jumbogram (RFC 2675), its length in a hop-by-hop option; the frame's. */
	struct xt_ext_walk w = {
		.ctx = ctx, .nh = ip6->nexthdr, .off = p->l3_off + sizeof(*ip6),
		.end = plen ? xt_ip_end(p, sizeof(*ip6) + plen) : (__u32)(p->data_end - p->data),
	};

	/* The first headers in place: most packets have none, some one or two, and these cost no
	 * helper call. */
#pragma unroll
	for (int i = 0; i < XT_IPV6_EXT_INLINE; i++) {
		if (!xt_ipv6_is_ext(w.nh))
			break;
		/* `off` grows by packet-chosen lengths (at most 2 KiB a round): the verifier must know
		 * the largest value a variable offset can take, and the mask states it at the access. */
		__u8 *ext = p->data + (w.off & 0xffff);
		if ((void *)(ext + 8) > p->data_end || w.off + 8 > w.end) {
			w.cut = 1;
			break;
		}
		if (xt_ext_next(&w, ext))
			break;
	}
	if (!w.cut && w.fragment != 2 && xt_ipv6_is_ext(w.nh))
		bpf_loop(XT_IPV6_EXT_MAX, xt_ext_step, &w, 0);
	p->fragment = w.fragment;
	p->l4_proto = w.nh;
	if (w.fragment == 2)
		return 0;
	if (w.cut)
		return xt_l4_cut(p, XT_L4U_EXT_CUT);
	if (w.off > w.end)
		return xt_l4_cut(p, XT_L4U_EXT_CUT); /* the last header's length ran past the end */
	/* Past XT_L4_OFF_MAX a stage's `data + l4_off + n` could no longer be proven to lie inside the
	 * 64 KiB the verifier allows for packet offsets. Only frames over 32 KiB (generic XDP on a
	 * device with a 64 KiB MTU) get there. */
	if (xt_ipv6_is_ext(w.nh) || w.off > XT_L4_OFF_MAX) {
		p->l4_unknown = XT_L4U_CHAIN_LONG;
		return -1;
	}
	/* The barrier keeps the mask: clang drops it as redundant after the test above, but the
	 * verifier may see that test on another copy of the value and would not know the bound. */
	__u32 l4 = w.off;
	asm volatile("" : "+r"(l4));
	p->l4_off = l4 & XT_L4_OFF_MAX;
	return xt_parse_ports(p, w.end);
}

/* Parse everything we can; the return value says whether parsing reached the end cleanly. */
static __always_inline int xt_parse(struct xdp_md *ctx, struct xt_pkt *p)
{
	p->data = (void *)(long)ctx->data;
	p->data_end = (void *)(long)ctx->data_end;
	if (xt_parse_l2(p))
		return -1;
	if (p->l3_proto == ETH_P_IP)
		return xt_parse_ipv4(p);
	if (p->l3_proto == ETH_P_IPV6)
		return xt_parse_ipv6(ctx, p);
	return 0;
}

#endif
