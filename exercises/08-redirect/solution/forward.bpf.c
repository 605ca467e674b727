/* forward.bpf.c — exercise 8, a solution: a tiny router. IPv4 packets for 198.18.1.0/24 go out
 * of the interface in the devmap `tx_port` (XDP_REDIRECT), with their TTL decremented and the
 * header checksum updated; everything else goes to the kernel's stack. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* tx_port[0]: the ifindex to forward to (user space fills it: xdptool map update). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

#define ROUTE_NET 0xc6120100 /* 198.18.1.0 */
#define ROUTE_MASK 0xffffff00 /* /24 */

SEC("xdp")
int forward(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	if ((bpf_ntohl(ip->daddr) & ROUTE_MASK) != ROUTE_NET)
		return XDP_PASS;
	/* A TTL about to run out is the stack's business: it sends the ICMP time exceeded. */
	if (ip->ttl <= 1)
		return XDP_PASS;

	/* TTL is the high byte of the 16-bit word it shares with the protocol: the word drops by
	 * 0x0100, so the checksum (its complement) rises by 0x0100, with the carry folded back. */
	__u32 sum = bpf_ntohs(ip->check) + 0x0100;

	ip->ttl--;
	ip->check = bpf_htons((sum & 0xffff) + (sum >> 16));

	/* The verdict itself: XDP_REDIRECT when tx_port[0] holds an interface, else the fallback
	 * given in the flags' low bits (XDP_PASS). */
	return bpf_redirect_map(&tx_port, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
