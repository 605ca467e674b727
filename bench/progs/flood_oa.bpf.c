/* flood_oa.bpf.c — baseline: the /32s in ONE open-addressing table, a BPF array of 2^21 u32 (8 MiB;
 * a big array is vmalloc'd: mapped with 4 KiB pages). See flood_oa.h. */
#include "flood_oa.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OA_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} flood_oa SEC(".maps");

SEC("xdp")
int flood_oa_whole(struct xdp_md *ctx)
{
	__u32 saddr;

	if (flood_saddr(ctx, &saddr))
		return XDP_PASS;
	__u32 h = oa_home(saddr);
	return oa_verdict(&flood_oa, h & ~(OA_PIECE - 1), h, saddr);
}

char LICENSE[] SEC("license") = "GPL";
