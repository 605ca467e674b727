/* xdptool.bpf.c — every feature in one program: parse once, then run the enabled stages.
 *
 * Operators run the blacklist, the DNS responder, statistics and an occasional sample on the same
 * interface at the same time. Chaining separate programs (libxdp's dispatcher, tail calls) would
 * parse the headers once per program; here the headers are parsed ONCE into `struct xt_pkt` and
 * each stage is a function over it, inlined, switched on and off by a bit in `xdptool_features`
 * (bpf/include/features.h). The order is fixed:
 *
 *   parse → blacklist → responder → sampler → counters
 *
 * - the blacklist runs first, so a dropped packet is never answered;
 * - the responder only sees what the blacklist let through; its XDP_TX rewrites the frame in place;
 * - the sampler runs last, so it records the verdict reached (`xdptool sample --action drop`);
 * - every packet leaves through xt_count(): no verdict escapes the statistics.
 */
/* SEC("xdp.frags") below: stages that write frames in place must refuse multi-buffer ones. */
#define XT_XDP_FRAGS
#include "include/stats.h"
#include "include/features.h"
#include "include/blacklist.h"
#include "include/responder.h"
/* The sampler's settings live in a map here (not .rodata): captures come and go, the program stays. */
#define XT_SAMP_CFG_IN_MAP
#include "include/sampler.h"

/* xdp.frags: an interface with a jumbo MTU hands over multi-buffer frames, and refuses a program
 * that does not declare it can take them. Parsing reads the first buffer only (headers are
 * there), the sampler copies across all of them, and the responder leaves such frames alone. */
SEC("xdp.frags")
int xdptool(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {};
	int action = XDP_PASS;

	xt_parse(ctx, &pkt);
	__u32 on = xt_features();

	if (on & XT_F_BLACKLIST)
		action = xt_blacklist_stage(&pkt);
	if (action == XDP_PASS && (on & XT_F_RESPONDER))
		action = xt_responder_stage(ctx, &pkt);
	if (on & XT_F_SAMPLER)
		xt_sampler_stage(ctx, &pkt, action);
	return xt_count(&pkt, action);
}

char LICENSE[] SEC("license") = "GPL";
