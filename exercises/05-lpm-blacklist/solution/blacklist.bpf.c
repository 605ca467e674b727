/* blacklist.bpf.c — exercise 5, a solution: drop IPv4 packets whose source address falls in a
 * prefix of the LPM trie `blacklist`, and count the drops in the matching entry. */
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

	/* A lookup key asks with a full-length prefix: the trie answers with the longest stored
	 * prefix that contains the address. */
	struct prefix key = { .prefixlen = 32 };

	__builtin_memcpy(key.addr, &ip->saddr, 4);
	__u64 *hits = bpf_map_lookup_elem(&blacklist, &key);

	if (!hits)
		return XDP_PASS;
	__sync_fetch_and_add(hits, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
