/* pass.bpf.c — the smallest valid XDP program: let everything through, count nothing.
 *
 * The lab puts it on the traffic generator's end of each veth pair. veth only delivers a frame
 * sent with XDP_TX (our traffic generator, the DNS responder's replies) when the receiving end
 * runs an XDP program — any program, even this one.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
