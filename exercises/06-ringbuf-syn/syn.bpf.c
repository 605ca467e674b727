/* syn.bpf.c — exercise 6: report every TCP SYN (a connection attempt) over IPv4 to
 * user space through the ring buffer `syns`; pass every frame.
 * Build and check: bash exercises/check.sh 06 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* One record per SYN: addresses and ports as in the packet (network byte order), and the
 * frame's length (host order). 16 bytes, no padding. */
struct syn_event {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024); /* bytes: a power of two, a multiple of the page size */
} syns SEC(".maps");

SEC("xdp")
int syn(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP || ip->ihl < 5)
		return XDP_PASS;
	struct tcphdr *tcp = (void *)ip + ip->ihl * 4;

	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;
	/* TODO 1: only an opening SYN counts: the syn flag set, the ack flag not
	 *         (struct tcphdr has them as bit fields: tcp->syn, tcp->ack). */

	/* TODO 2: reserve a struct syn_event in `syns` (bpf_ringbuf_reserve returns NULL when
	 *         the ring is full: then skip it), fill in every field, and submit it
	 *         (bpf_ringbuf_submit). */

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
