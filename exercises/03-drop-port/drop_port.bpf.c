/* drop_port.bpf.c — exercise 3: drop TCP and UDP packets (IPv4 and IPv6) whose destination port
 * is in the map `blocked`; pass everything else. Build and check: bash exercises/check.sh 03
 * The check puts ports 22 and 23 in `blocked` before its frames run. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* blocked[port] exists: drop. The key is the port as a number (host byte order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u8);
} blocked SEC(".maps");

SEC("xdp")
int drop_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	/* TODO 1: find the L4 header and the protocol, for IPv4 (struct iphdr) and IPv6
	 *         (struct ipv6hdr; no extension headers in this exercise). Bounds-check
	 *         each header before reading it. An IPv4 header can be longer than
	 *         struct iphdr: ip->ihl says how long, in 32-bit words. */

	/* TODO 2: for TCP and UDP, read the destination port (both headers start with the
	 *         source and destination ports, in network byte order: bpf_ntohs), and
	 *         drop when bpf_map_lookup_elem(&blocked, &port) finds it. */

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
