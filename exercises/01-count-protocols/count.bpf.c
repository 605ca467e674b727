/* count.bpf.c — exercise 1: count IPv4 packets per protocol in a map; pass every frame.
 * Build and check: bash exercises/check.sh 01 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* counts[p]: IPv4 packets whose protocol field is p (1 ICMP, 6 TCP, 17 UDP, ...). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	/* The verifier insists: no byte of the packet is read before we know it is there. */
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	/* TODO 1: the IPv4 header starts right after the Ethernet header. Point a
	 *         struct iphdr * at it, and check that all of it is inside the packet
	 *         (the same test as for eth above). */

	/* TODO 2: look up counts[protocol] with bpf_map_lookup_elem (it returns a pointer
	 *         to the value, or NULL), and add one to it. Several CPUs may count at
	 *         once: __sync_fetch_and_add(value, 1) adds atomically. */

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
