/* per_source.bpf.c — exercise 4, a solution: count packets and bytes per IPv4 source address in
 * a hash map; pass every frame. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* A struct, not a bare __u32: its field name (saddr) lets `xdptool map dump` show an address. */
struct source {
	__u32 saddr; /* network byte order, as in the packet */
};

struct traffic {
	__u64 packets;
	__u64 bytes; /* whole frames, Ethernet header included */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct source);
	__type(value, struct traffic);
} by_source SEC(".maps");

SEC("xdp")
int per_source(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	struct source key = { .saddr = ip->saddr };
	__u64 len = data_end - data;
	struct traffic *t = bpf_map_lookup_elem(&by_source, &key);

	if (t) {
		__sync_fetch_and_add(&t->packets, 1);
		__sync_fetch_and_add(&t->bytes, len);
	} else {
		struct traffic first = { .packets = 1, .bytes = len };

		/* Another CPU may have inserted the same source meanwhile: BPF_NOEXIST keeps its
		 * count; that one packet is then not counted (a per-CPU hash would avoid it). */
		bpf_map_update_elem(&by_source, &key, &first, BPF_NOEXIST);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
