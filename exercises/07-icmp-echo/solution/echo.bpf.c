/* echo.bpf.c — exercise 7, a solution: answer IPv4 ICMP echo requests (ping) from XDP — turn the
 * request into the reply in place and send it back out with XDP_TX; pass everything else. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> pulls in libc headers that do not build for -target bpf: the echo header here. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

/* RFC 1624 (eqn. 3): the checksum after one 16-bit word of the data changed from old to new,
 * without summing the whole message again. */
static __always_inline __u16 csum_replace(__u16 csum, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~csum + (__u16)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

SEC("xdp")
int echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);

	/* Options would move the ICMP header; a ping without them is all this answers. */
	if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	struct icmphdr *icmp = (void *)(ip + 1);

	if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_ECHO || icmp->code != 0)
		return XDP_PASS;

	unsigned char mac[ETH_ALEN];

	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);

	/* Swapping the addresses leaves the IP checksum as it is: the same words, summed in
	 * another order. */
	__be32 addr = ip->saddr;

	ip->saddr = ip->daddr;
	ip->daddr = addr;

	/* Type and code are one 16-bit word of the ICMP message: 8/0 becomes 0/0. */
	icmp->type = ICMP_ECHOREPLY;
	icmp->checksum = bpf_htons(csum_replace(bpf_ntohs(icmp->checksum), ICMP_ECHO << 8, ICMP_ECHOREPLY << 8));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
