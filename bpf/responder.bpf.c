/* responder.bpf.c — the DNS TC responder on its own: parse once, run the stage, count, leave.
 *
 * It answers plain UDP DNS queries with an empty reply that has TC=1 ("truncated, ask again over
 * TCP"), rewritten in place and sent straight back with XDP_TX, before the kernel allocates
 * anything for the query. Real resolvers retry over TCP; spoofed sources cannot complete a
 * handshake, so a flood never reaches the server. Everything else is XDP_PASS: the server behind
 * gets all of it, untouched (docs/07-xdp-tx.md walks through it).
 *
 * The logic is in include/responder.h, as a stage over the parsed packet. `xdptool responder
 * enable <if>` runs that same stage inside the combined program (xdptool.bpf.c, after the
 * blacklist); this file is the stage alone, the smallest complete program around it. The stage
 * returns the verdict and xt_count records it in xdptool_stats (XDP_TX for answered queries).
 */
#include "include/stats.h"
#include "include/responder.h"

SEC("xdp")
int responder(struct xdp_md *ctx)
{
	struct xt_pkt pkt = {}; /* on the stack, zeroed: fields parsing never reached read as 0 */

	xt_parse(ctx, &pkt);
	int action = xt_responder_stage(ctx, &pkt);
	return xt_count(&pkt, action);
}

char LICENSE[] SEC("license") = "GPL";
