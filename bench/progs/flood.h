/* flood.h — what the flood bench's baseline programs share (bench/flood.bench.ts): the IPv4
 * source of a frame, and the verdict with a count of frames that matched.
 *
 * Baselines, not features: the smallest program that does one lookup per frame in a given data
 * structure, so the blacklist can be compared with what the structure alone costs under a flood.
 */
#ifndef FLOOD_H
#define FLOOD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flood_hits SEC(".maps");

/* The source of an untagged IPv4 frame (network byte order); -1 for anything else (the flood is
 * untagged IPv4 only, the rest is the lab's own traffic). */
static __always_inline int flood_saddr(struct xdp_md *ctx, __u32 *saddr)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	*saddr = ip->saddr;
	return 0;
}

/* Every flood frame is dropped, matched or not: a miss passed to the stack would measure the
 * stack (~1.3 Mpps here), not the structure. Matches are counted, so the bench can check them. */
static __always_inline int flood_verdict(int matched)
{
	__u32 zero = 0;
	__u64 *hits;

	if (matched && (hits = bpf_map_lookup_elem(&flood_hits, &zero)))
		(*hits)++;
	return XDP_DROP;
}

#endif
