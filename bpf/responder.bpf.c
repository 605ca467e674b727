/* responder.bpf.c — the DNS TC responder on its own: parse once, run the stage, count, leave.
 * The logic is in include/responder.h; `xdptool responder enable <if>` attaches this program and
 * writes its configuration maps. */
#include "include/stats.h"
#include "include/responder.h"

SEC("xdp")
int responder(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {};

	xt_parse(ctx, &pkt);
	int action = xt_responder(ctx, &pkt);
	return xt_count(&pkt, action);
}

char LICENSE[] SEC("license") = "GPL";
