/* blacklist.bpf.c — exercise 5: drop IPv4 packets whose source address falls in a prefix of the
 * LPM trie `blacklist`, and count the drops in the matching entry.
 * Build and check: bash exercises/check.sh 05 (it puts 198.18.7.0/24 and 198.18.9.9/32 in). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* An LPM trie key: the prefix length in bits first, then the address bytes (network order). */
struct prefix {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* the kernel refuses an LPM trie without it */
	__type(key, struct prefix);
	__type(value, __u64); /* packets dropped by this prefix */
} blacklist SEC(".maps");

SEC("xdp")
int blacklist_src(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	/* TODO 1: build a struct prefix key for the source address. What prefix length
	 *         does a lookup use? (docs/05-advanced-maps.md, "Four map types".) */

	/* TODO 2: look it up in `blacklist`. Found: add one to the value it points to and
	 *         drop the packet. */

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
