/* sampler.h — the sampling stage: copy a packet's first bytes plus metadata to user space.
 *
 * `xt_sample(ctx, &pkt, action)` is called after the verdict is known (so the record says what
 * happened to the packet) and before the program returns it. Two transports, chosen at load time
 * through read-only globals (no branch the verifier cannot prune):
 *  - perf event array: one buffer per CPU; bpf_perf_event_output copies the header from the stack
 *    and the packet straight from the XDP buffer (the upper 32 bits of flags = bytes of ctx).
 *  - BPF ring buffer: one buffer shared by all CPUs; the packet is first copied into a per-CPU
 *    scratch record, then bpf_ringbuf_output copies header + bytes in one go.
 * Wake-ups are batched: a wake-up per record costs more than the record itself. The perf buffer
 * wakes the reader through perf_event_attr.wakeup_watermark (set by user space); the ring buffer
 * submits with BPF_RB_NO_WAKEUP and forces a wake-up once unread bytes pass a watermark. The
 * reader also polls with a timeout, so a quiet tail never waits for the watermark.
 */
#ifndef XDPTOOL_SAMPLER_H
#define XDPTOOL_SAMPLER_H

#include "parsing.h"
#include "xdptool.h"

#ifndef XT_SAMPLE_MAX_SNAP
#define XT_SAMPLE_MAX_SNAP 4096 /* largest --snaplen; a power of two (the copy is masked with it) */
#endif

/* Set by user space before load (bpf_map__set_initial_value on .rodata): the verifier then
 * sees constants and prunes the transport that is not used. */
const volatile struct xt_sample_cfg xt_sample_cfg = {
	.watermark = 65536, .rate = 1, .snaplen = 262144, .mode = XT_SAMPLE_MODE_PERF, .drop = 0,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
} xt_sample_perf SEC(".maps"); /* max_entries 0: libbpf sizes it to the possible CPUs */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* user space resizes it (--buffer) */
} xt_sample_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_SAMPLE_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xt_sample_stats SEC(".maps");

struct xt_sample_rec {
	struct xt_sample_hdr hdr;
	__u8 data[XT_SAMPLE_MAX_SNAP];
	__u32 since_query; /* not sent: records this CPU submitted since it last looked at the fill */
};

#ifndef XT_SAMPLE_QUERY_EVERY
#define XT_SAMPLE_QUERY_EVERY 32 /* look at the ring's fill once per this many records */
#endif

/* Ring buffer mode builds the record here: 4 KiB does not fit on the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_sample_rec);
} xt_sample_scratch SEC(".maps");

static __always_inline void xt_sample_bump(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&xt_sample_stats, &slot);

	if (c) /* per-CPU slot: no other writer, no atomics needed */
		(*c)++;
}

static __always_inline void xt_sample(struct xdp_md *ctx, const struct xt_pkt *p, int action)
{
	__u64 len = bpf_xdp_get_buff_len(ctx);
	__u32 snap = xt_sample_cfg.snaplen < XT_SAMPLE_MAX_SNAP ? xt_sample_cfg.snaplen : XT_SAMPLE_MAX_SNAP;
	__u32 cap = len < snap ? len : snap;
	long err;

	xt_sample_bump(XT_SAMPLE_SEEN);
	/* Decide before copying anything: a sampled-out packet costs one random number. Random rather
	 * than every Nth packet, so periodic traffic cannot line up with the sampling. */
	if (xt_sample_cfg.rate > 1 && bpf_get_prandom_u32() % xt_sample_cfg.rate != 0) {
		xt_sample_bump(XT_SAMPLE_SAMPLED_OUT);
		return;
	}

	if (xt_sample_cfg.mode == XT_SAMPLE_MODE_PERF) {
		struct xt_sample_hdr h = {
			.tstamp = bpf_ktime_get_boot_ns(), .orig_len = len, .cap_len = cap,
			.ifindex = ctx->ingress_ifindex, .rx_queue = ctx->rx_queue_index,
			.cpu = bpf_get_smp_processor_id(), .action = action,
		};
		/* The kernel appends `cap` bytes of the XDP buffer after h, itself. */
		err = bpf_perf_event_output(ctx, &xt_sample_perf, BPF_F_CURRENT_CPU | ((__u64)cap << 32), &h, sizeof(h));
	} else {
		__u32 zero = 0;
		struct xt_sample_rec *r = bpf_map_lookup_elem(&xt_sample_scratch, &zero);
		__u64 flags;

		if (!r)
			return;
		r->hdr.tstamp = bpf_ktime_get_boot_ns();
		r->hdr.orig_len = len;
		r->hdr.cap_len = cap;
		r->hdr.ifindex = ctx->ingress_ifindex;
		r->hdr.rx_queue = ctx->rx_queue_index;
		r->hdr.cpu = bpf_get_smp_processor_id();
		r->hdr.action = action;
		/* Bounds for the verifier right at the copy: 1 ≤ cap ≤ sizeof(r->data). A mask rather
		 * than two compares, which clang folds into one the verifier cannot follow; for cap in
		 * [1, MAX] (a frame is never empty) it is the identity. */
		cap = ((cap - 1) & (XT_SAMPLE_MAX_SNAP - 1)) + 1;
		if (bpf_xdp_load_bytes(ctx, 0, r->data, cap) < 0)
			return;
		/* Reading the fill touches the consumer position, a cache line the reader keeps
		 * writing from another CPU: do it once per XT_SAMPLE_QUERY_EVERY records, not per packet. */
		flags = BPF_RB_NO_WAKEUP;
		if (++r->since_query >= XT_SAMPLE_QUERY_EVERY) {
			r->since_query = 0;
			if (bpf_ringbuf_query(&xt_sample_ring, BPF_RB_AVAIL_DATA) >= xt_sample_cfg.watermark)
				flags = BPF_RB_FORCE_WAKEUP;
		}
		err = bpf_ringbuf_output(&xt_sample_ring, r, sizeof(r->hdr) + cap, flags);
	}
	xt_sample_bump(err ? XT_SAMPLE_FAILED : XT_SAMPLE_SUBMITTED);
}

#endif
