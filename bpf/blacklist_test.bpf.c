/* blacklist_test.bpf.c — `xdptool blacklist test`: what the blacklist decides for one frame.
 *
 * Loaded with the attached program's pinned blacklist maps (src/blacklist/probe.ts) and run once
 * with BPF_PROG_TEST_RUN on a built frame. The decision is bl_decide() from include/blacklist.h,
 * the very code xt_blacklist_stage() runs on live traffic, without its counting: a test changes
 * no counter. The answer overwrites the frame's first 8 bytes, which the test run hands back
 * (data_out): the verdict, then the deciding rule (0 = none). */
#include "include/blacklist.h"

struct bl_test_out {
	__u32 verdict; /* XDP_DROP or XDP_PASS */
	__u32 rule;    /* bl_recs id, or an IPv4 rule's slot handle (>= cfg.slot_base); 0 = no rule */
};

SEC("xdp")
int blacklist_test(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {};
	__u32 rule = 0;

	xt_parse(ctx, &pkt);
	int verdict = bl_decide(&pkt, &rule);
	struct bl_test_out *out = (void *)(long)ctx->data;
	if ((void *)(out + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	out->verdict = verdict;
	out->rule = rule;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
