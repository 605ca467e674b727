/* drop.bpf.c — drop every frame, and count what was dropped.
 *
 * The cheapest possible verdict: the driver recycles the buffer at once. It is the baseline that
 * `xdptool bench` compares every feature against ("how close to bare XDP_DROP are we?").
 */
#include "include/stats.h"

SEC("xdp")
int drop(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {};

	xt_parse(ctx, &pkt);
	return xt_count(&pkt, XDP_DROP);
}

char LICENSE[] SEC("license") = "GPL";
