/* tx.bpf.c — the lab's traffic generator: send the frame back out with XDP_TX.
 *
 * It is never attached. `xdptool lab traffic` runs it through BPF_PROG_TEST_RUN with the
 * BPF_F_TEST_XDP_LIVE_FRAMES flag: the kernel builds real frames from the test input and acts on
 * the verdict, so XDP_TX transmits each copy out of the generator's veth end at line rate.
 *
 * The kernel fills each page of its LIVE_FRAMES pool with the test frame only once and recycles
 * pages afterwards. veth hands the very page to the receiver, so a receiver that rewrites frames
 * in place (the DNS responder turns queries into replies with XDP_TX) would make us send its
 * rewritten frames next time round. So the frame is copied from `tx_template` before each send.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TX_TEMPLATE_MAX 4096 /* a power of two; LIVE_FRAMES frames fit in one page anyway */

struct tx_template {
	__u32 len; /* 0 = send the frame as the kernel gave it */
	__u8 data[TX_TEMPLATE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tx_template);
} tx_template SEC(".maps");

SEC("xdp")
int tx(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct tx_template *t = bpf_map_lookup_elem(&tx_template, &zero);

	if (!t)
		return XDP_TX;
	/* Masked, then tested for zero right before the call: the verifier needs 1 ≤ len ≤ value size. */
	__u32 len = t->len & (TX_TEMPLATE_MAX - 1);
	if (len != 0 && bpf_xdp_store_bytes(ctx, 0, t->data, len))
		return XDP_ABORTED; /* template longer than the frame: a bug on our side, make it visible */
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
