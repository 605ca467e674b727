/* hello.bpf.c — the "hello world" of XDP: look at every packet, count it, let it pass.
 *
 * An XDP program runs in the driver's receive path, before the kernel allocates an sk_buff, once
 * per frame. It gets a `struct xdp_md` whose data/data_end bound the frame, and returns a verdict:
 * XDP_PASS (continue into the network stack), XDP_DROP, XDP_TX (bounce out of the same interface),
 * XDP_REDIRECT or XDP_ABORTED (drop and fire a tracepoint: reserved for program errors).
 *
 * Load it with `xdptool load <if> hello` and watch `xdptool stats <if>`.
 */
#include "include/stats.h"

/* SEC("xdp") tells libbpf the program type (BPF_PROG_TYPE_XDP) and the attach point. */
SEC("xdp")
int hello(struct xdp_md *ctx)
{
	/* The parse result lives on the 512-byte BPF stack; zero it so unparsed fields read as 0. */
	struct xt_pkt pkt = {};

	/* A malformed frame is still counted: parsing fills in what it could. */
	xt_parse(ctx, &pkt);
	return xt_count(&pkt, XDP_PASS);
}

/* The verifier only lets GPL programs call GPL-only helpers; say so explicitly. */
char LICENSE[] SEC("license") = "GPL";
