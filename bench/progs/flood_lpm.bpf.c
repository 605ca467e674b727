/* flood_lpm.bpf.c — baseline: the kernel's LPM trie alone, one longest-prefix lookup of the IPv4
 * source (every IPv4 entry of the list: the /32s and the prefixes). */
#include "flood.h"

struct lpm_key {
	__u32 prefixlen;
	__u32 addr; /* network byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1); /* sized by the bench */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u8);
} flood_trie SEC(".maps");

SEC("xdp")
int flood_lpm(struct xdp_md *ctx)
{
	struct lpm_key key = { .prefixlen = 32 };

	if (flood_saddr(ctx, &key.addr))
		return XDP_PASS;
	return flood_verdict(bpf_map_lookup_elem(&flood_trie, &key) != NULL);
}

char LICENSE[] SEC("license") = "GPL";
