/* sampler.bpf.c — `xdptool sample`: copy packets (or 1 in N) to user space, then let them pass.
 *
 * Attached for the life of the command only (an unpinned bpf_link). The stage itself lives in
 * include/sampler.h so a combined program can run it after other stages.
 *
 * Unlike the other programs it keeps no xdptool_stats counters: its maps are never pinned, so
 * `xdptool stats` could not read them, and parsing every packet for them cost more per packet
 * than the copy (the capture's own summary counts every packet instead).
 */
#include "include/sampler.h"

/* xdp.frags: the program may be given multi-buffer frames (jumbo MTU on veth, drivers with
 * multi-buffer receive) and captures them whole; without it such an interface refuses it. */
SEC("xdp.frags")
int sampler(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {};
	/* Capture-and-drop is for benchmarks: it measures the sampler without the stack behind it. */
	int action = xt_samp_cfg.drop ? XDP_DROP : XDP_PASS;

	xt_sampler_stage(ctx, &pkt, action);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
