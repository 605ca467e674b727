/* blacklist.bpf.c — the blacklist on its own: parse once, judge, count, leave through xt_count.
 * The logic is the stage in include/blacklist.h, so a combined program can run it too. */
#include "include/blacklist.h"

SEC("xdp")
int blacklist(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {};

	xt_parse(ctx, &pkt);
	return xt_count(&pkt, xt_blacklist_stage(&pkt));
}

char LICENSE[] SEC("license") = "GPL";
