/* parsing.h — parse a packet ONCE into `struct xt_pkt`, for every xdptool program.
 *
 * Rules for every helper here (the verifier enforces the first one; we keep the others):
 *  - every read is preceded, right next to it, by a check that the bytes lie before data_end;
 *  - every loop is bounded by a constant (the verifier must see that it terminates);
 *  - a helper returns 0 on success and -1 when the packet is too short or malformed, leaving
 *    what it parsed so far in `struct xt_pkt`, so the caller can still judge on L2/L3.
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

#ifndef XT_VLAN_MAX_DEPTH
#define XT_VLAN_MAX_DEPTH 2 /* 802.1ad outer + 802.1Q inner */
#endif
#ifndef XT_IPV6_EXT_MAX
#define XT_IPV6_EXT_MAX 6 /* extension headers we walk before giving up on finding L4 */
#endif

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

static __always_inline int xt_parse_ports(struct xt_pkt *p)
{
	if (p->l4_proto != IPPROTO_TCP && p->l4_proto != IPPROTO_UDP)
		return 0;
	/* Ports are the first 4 bytes of both TCP and UDP headers. */
	__be16 *ports = p->data + p->l4_off;
	if ((void *)(ports + 2) > p->data_end) {
		p->truncated = 1;
		return -1;
	}
	p->sport = ports[0];
	p->dport = ports[1];
	return 0;
}

static __always_inline int xt_parse_ipv4(struct xt_pkt *p)
{
	struct iphdr *ip = p->data + p->l3_off;

	if ((void *)(ip + 1) > p->data_end) {
		p->truncated = 1;
		return -1;
	}
	__u32 hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip) || ip->version != 4) {
		p->truncated = 1;
		return -1;
	}
	p->l4_proto = ip->protocol;
	__u16 frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff) {
		p->fragment = 2; /* offset > 0: no L4 header in this one */
		return 0;
	}
	if (frag & 0x2000)
		p->fragment = 1;
	/* hlen is at most 60, so the offset stays small and verifiable. */
	p->l4_off = p->l3_off + (hlen & 0x3c);
	return xt_parse_ports(p);
}

static __always_inline int xt_ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_DSTOPTS || nh == IPPROTO_AH || nh == 135 /* mobility */;
}

static __always_inline int xt_parse_ipv6(struct xt_pkt *p)
{
	struct ipv6hdr *ip6 = p->data + p->l3_off;

	if ((void *)(ip6 + 1) > p->data_end) {
		p->truncated = 1;
		return -1;
	}
	__u8 nh = ip6->nexthdr;
	__u32 off = p->l3_off + sizeof(*ip6);

#pragma unroll
	for (int i = 0; i < XT_IPV6_EXT_MAX; i++) {
		if (!xt_ipv6_is_ext(nh))
			break;
		/* Every extension header starts with next-header and a length byte. `off` grows by
		 * packet-chosen lengths (at most 2 KiB a round): the verifier must know the largest value
		 * a variable offset can take, and the mask states it right at the access. */
		__u8 *ext = p->data + (off & 0xffff);
		if ((void *)(ext + 8) > p->data_end) {
			p->truncated = 1;
			p->l4_proto = nh;
			return -1;
		}
		__u32 len;
		if (nh == IPPROTO_FRAGMENT) {
			__u16 fo = bpf_ntohs(*(__be16 *)(ext + 2));
			p->fragment = (fo & 0xfff8) ? 2 : ((fo & 1) ? 1 : 0);
			len = 8;
		} else if (nh == IPPROTO_AH) {
			len = (ext[1] + 2) * 4; /* AH counts 4-byte words, minus 2 */
		} else {
			len = (ext[1] + 1) * 8; /* the others count 8-byte words, minus 1 */
		}
		nh = ext[0];
		off += len;
		if (p->fragment == 2) {
			p->l4_proto = nh;
			return 0;
		}
	}
	p->l4_proto = nh;
	if (xt_ipv6_is_ext(nh)) /* too many extension headers: judge on L3 only */
		return 0;
	p->l4_off = off & 0xffff;
	return xt_parse_ports(p);
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
		return xt_parse_ipv6(p);
	return 0;
}

#endif
