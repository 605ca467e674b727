/* tx.bpf.c — the lab's traffic generator: send the frame back out with XDP_TX.
 *
 * It is never attached. `xdptool lab traffic` runs it through BPF_PROG_TEST_RUN with the
 * BPF_F_TEST_XDP_LIVE_FRAMES flag: the kernel builds real frames from the test input and acts on
 * the verdict, so XDP_TX transmits each copy out of the generator's veth end at line rate.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
