/* echo.bpf.c — exercise 7: answer IPv4 ICMP echo requests (ping) from XDP — turn the
 * request into the reply in place and send it back out with XDP_TX; pass everything else.
 * Build and check: bash exercises/check.sh 07 */
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

	/* TODO 1: swap the Ethernet source and destination addresses (the reply goes back to
	 *         the sender), and the IPv4 source and destination addresses. Does the IP
	 *         header checksum change? */

	/* TODO 2: make it an echo reply (type ICMP_ECHOREPLY), and fix the ICMP checksum:
	 *         either sum the whole ICMP message again, or update it for the one 16-bit
	 *         word that changed (csum_replace above). Then return XDP_TX. */
	(void)csum_replace;

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
