/* flood_hash.bpf.c — baseline: the plainest exact match, one BPF hash lookup of the IPv4 source
 * (the /32s of the list; the bench sizes the map to them before load). */
#include "flood.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);  /* IPv4 source, network byte order */
	__type(value, __u8); /* unused */
} flood_set SEC(".maps");

SEC("xdp")
int flood_hash(struct xdp_md *ctx)
{
	__u32 saddr;

	if (flood_saddr(ctx, &saddr))
		return XDP_PASS;
	return flood_verdict(bpf_map_lookup_elem(&flood_set, &saddr) != NULL);
}

char LICENSE[] SEC("license") = "GPL";
