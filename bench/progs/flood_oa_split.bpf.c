/* flood_oa_split.bpf.c — baseline: the same table as flood_oa.bpf.c cut into 512 pieces of 16 KiB,
 * each its own array in an array of maps. An array this small is kmalloc'd: it sits in the
 * kernel's direct map (large pages), where a vmalloc'd one takes a 4 KiB page (and a TLB entry)
 * per 4 KiB. The outer lookup reads one of 512 pointers (4 KiB: cached). See flood_oa.h. */
#include "flood_oa.h"

struct oa_piece {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OA_PIECE);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, OA_SLOTS / OA_PIECE);
	__type(key, __u32);
	__array(values, struct oa_piece);
} flood_oa_split SEC(".maps");

SEC("xdp")
int flood_oa_pieces(struct xdp_md *ctx)
{
	__u32 saddr;

	if (flood_saddr(ctx, &saddr))
		return XDP_PASS;
	__u32 h = oa_home(saddr), piece = h / OA_PIECE;
	void *t = bpf_map_lookup_elem(&flood_oa_split, &piece);
	return t ? oa_verdict(t, 0, h, saddr) : flood_verdict(0);
}

char LICENSE[] SEC("license") = "GPL";
