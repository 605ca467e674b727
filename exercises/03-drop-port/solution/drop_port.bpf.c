/* drop_port.bpf.c — exercise 3, a solution: drop TCP and UDP packets (IPv4 and IPv6) whose
 * destination port is in the map `blocked`; pass everything else. */
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
	void *l4;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		/* Options make the header longer than struct iphdr: ihl counts 32-bit words. */
		if (ip->ihl < 5)
			return XDP_PASS;
		/* Later fragments carry no L4 header: their first bytes are payload, not ports. */
		if (ip->frag_off & bpf_htons(0x1fff))
			return XDP_PASS;
		l4 = (void *)ip + ip->ihl * 4;
		proto = ip->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		l4 = ip6 + 1;
		proto = ip6->nexthdr;
	} else {
		return XDP_PASS;
	}

	__u16 port;

	/* TCP and UDP both start with source and destination port: one check covers either. */
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return XDP_PASS;
	struct udphdr *ports = l4;

	if ((void *)(ports + 1) > data_end)
		return XDP_PASS;
	port = bpf_ntohs(ports->dest);
	return bpf_map_lookup_elem(&blocked, &port) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
