/* features.h — which stages the combined program (xdptool.bpf.c) runs, switched live.
 *
 * One bit per feature in a one-slot array map that user space flips: turning a feature on or off
 * is a single map write, never a re-attach, so the other features keep running untouched and no
 * packet ever meets "no program". An array lookup costs a few nanoseconds per packet; a global
 * variable in .rodata would be free but could only change by loading a new program.
 */
#ifndef XDPTOOL_FEATURES_H
#define XDPTOOL_FEATURES_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdptool.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_features);
} xdptool_features SEC(".maps");

static __always_inline __u32 xt_features(void)
{
	__u32 zero = 0;
	struct xt_features *f = bpf_map_lookup_elem(&xdptool_features, &zero);

	return f ? f->enabled : 0;
}

#endif
