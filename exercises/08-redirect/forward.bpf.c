/* forward.bpf.c — exercise 8: a tiny router. IPv4 packets for 198.18.1.0/24 go out
 * of the interface in the devmap `tx_port` (XDP_REDIRECT), with their TTL decremented and the
 * header checksum updated; everything else goes to the kernel's stack.
 * Build and check: bash exercises/check.sh 08 (it puts ifindex 1 in tx_port[0]). */
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

	/* TODO 1: decrement the TTL, and update the header checksum for it (the TTL is the
	 *         high byte of a 16-bit word: the checksum changes by 0x0100, with the
	 *         carry folded back in — docs/07-xdp-tx.md, "Checksums"). */

	/* TODO 2: hand the packet to the interface in tx_port[0]: bpf_redirect_map(map, key,
	 *         flags) returns the verdict, XDP_REDIRECT, or the low bits of flags if the
	 *         key has no interface. */

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
