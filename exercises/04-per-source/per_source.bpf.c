/* per_source.bpf.c — exercise 4: count packets and bytes per IPv4 source address in a hash map;
 * pass every frame. Build and check: bash exercises/check.sh 04 */
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

	/* TODO 1: the key is the source address: struct source key = { .saddr = ... }.
	 *         The frame's length is data_end - data. */

	/* TODO 2: look the key up in by_source. Found: add 1 to packets and the length to
	 *         bytes (__sync_fetch_and_add). Not found: insert { 1, length } with
	 *         bpf_map_update_elem(&by_source, &key, &value, BPF_NOEXIST). */

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
