/* bare_drop.bpf.c — XDP_DROP and nothing else: no parsing, no counters.
 *
 * The yardstick of `xdptool bench`: every scenario is reported as a ratio to this program's cost
 * per packet and live rate measured in the same run. Not loadable by name: it counts nothing.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bare_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
