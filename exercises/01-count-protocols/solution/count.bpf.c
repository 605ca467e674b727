/* count.bpf.c — exercise 1, a solution: count IPv4 packets per protocol in a map; pass every frame. */
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

	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	__u32 key = ip->protocol;
	__u64 *n = bpf_map_lookup_elem(&counts, &key);

	/* An array lookup with a key below max_entries cannot fail, but the verifier does not
	 * know that: the pointer must be tested before use. */
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
