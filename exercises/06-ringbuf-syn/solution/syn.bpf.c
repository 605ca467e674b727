/* syn.bpf.c — exercise 6, a solution: report every TCP SYN (a connection attempt) over IPv4 to
 * user space through the ring buffer `syns`; pass every frame. */
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
	/* A SYN-ACK answers a connection; only the opening SYN is reported. */
	if (!tcp->syn || tcp->ack)
		return XDP_PASS;

	/* Reserve room in the ring, fill it, submit: no copy through the stack. NULL when the
	 * ring is full (user space too slow): the event is lost, the packet still passes. */
	struct syn_event *e = bpf_ringbuf_reserve(&syns, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	e->saddr = ip->saddr;
	e->daddr = ip->daddr;
	e->sport = tcp->source;
	e->dport = tcp->dest;
	e->len = data_end - data;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
