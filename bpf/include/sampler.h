/* sampler.h — the sampling stage: copy a packet's first bytes plus metadata to user space.
 *
 * `xt_sampler_stage(ctx, &pkt, action)` is called after the verdict is known (so the record says what
 * happened to the packet) and before the program returns it. Two transports, chosen at load time
 * through read-only globals (no branch the verifier cannot prune):
 *  - perf event array: one buffer per CPU; bpf_perf_event_output copies the header from the stack
 *    and the packet straight from the XDP buffer (the upper 32 bits of flags = bytes of ctx).
 *  - BPF ring buffer: one buffer shared by all CPUs; a record of the smallest power-of-two size
 *    class that fits is reserved and the packet copied straight into it (bpf_xdp_load_bytes).
 * Wake-ups are batched: a wake-up per record costs more than the record itself. The perf buffer
 * wakes the reader through perf_event_attr.wakeup_watermark (set by user space); the ring buffer
 * submits with BPF_RB_NO_WAKEUP and forces a wake-up once unread bytes pass a watermark. The
 * reader also polls with a timeout, so a quiet tail never waits for the watermark.
 */
#ifndef XDPTOOL_SAMPLER_H
#define XDPTOOL_SAMPLER_H

#include "parsing.h"
#include "xdptool.h"
#include "cbpf.h"

#ifndef XT_SAMP_MAX_SNAP
#define XT_SAMP_MAX_SNAP 262144 /* largest --snaplen (tcpdump's default); a power of two (the copy is masked with it) */
#endif
/* A perf record's size is a u16 (struct perf_event_header) and holds the 8-byte header, the
 * raw size word, our header and the frame, rounded up to 8 bytes: frames are cut here. */
#define XT_SAMP_PERF_MAX_SNAP 65000

/* Set by user space before load (bpf_map__set_initial_value on .rodata): the verifier then
 * sees constants and prunes the transport that is not used. */
#ifdef XT_SAMP_CFG_IN_MAP
/* In the combined program (xdptool.bpf.c) the program outlives any one capture, so each capture
 * writes its settings into this one-slot array instead: no reload, the other stages keep running. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_samp_cfg);
} samp_conf SEC(".maps");

#define XT_SAMP_CFG_PTR const struct xt_samp_cfg *
static __always_inline XT_SAMP_CFG_PTR xt_samp_settings(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&samp_conf, &zero);
}
#else
const volatile struct xt_samp_cfg xt_samp_cfg = {
	.watermark = 65536, .rate = 1, .snaplen = 262144, .mode = XT_SAMP_MODE_PERF, .drop = 0, .kfilter = 0,
};

#define XT_SAMP_CFG_PTR const volatile struct xt_samp_cfg *
/* Reads through this pointer into .rodata are still constants to the verifier (the map is frozen). */
static __always_inline XT_SAMP_CFG_PTR xt_samp_settings(void)
{
	return &xt_samp_cfg;
}
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
} samp_perf SEC(".maps"); /* max_entries 0: libbpf sizes it to the possible CPUs */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* user space resizes it (--buffer) */
} samp_ring SEC(".maps");

/* The tcpdump filter (classic BPF from libpcap), when it runs in the kernel (cfg.kfilter). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_cbpf_prog);
} samp_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_SAMP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} samp_stats SEC(".maps");

/* --rate N picks one packet at a random position in each block of N packets this CPU sees:
 * every packet has exactly 1/N chance (unbiased, and periodic traffic cannot line up with the
 * picks, as it could with every Nth packet), yet the count is exact to one packet per CPU and
 * block (plain random sampling would be off by ~1% at 1:100 over a million packets). */
struct xt_samp_block {
	__u32 seen; /* packets of the current block seen so far */
	__u32 pick; /* position in the block that is sampled */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_samp_block);
} samp_blocks SEC(".maps");

static __always_inline int xt_samp_picked(__u32 rate)
{
	__u32 zero = 0;
	struct xt_samp_block *b = bpf_map_lookup_elem(&samp_blocks, &zero);
	int picked;

	if (!b)
		return 1;
	/* A block starts at 0; a block left over from a capture with a larger rate restarts. */
	if (b->seen == 0 || b->seen >= rate) {
		b->seen = 0;
		b->pick = bpf_get_prandom_u32() % rate;
	}
	picked = b->seen == b->pick;
	if (++b->seen == rate)
		b->seen = 0;
	return picked;
}

#ifndef XT_SAMP_QUERY_EVERY
#define XT_SAMP_QUERY_EVERY 32 /* look at the ring's fill once per this many records (power of 2) */
#endif

/* One ring buffer record of size class N: the header, then up to N bytes of the frame. The
 * reservation size must be a constant for the verifier, so records come in power-of-two classes
 * and the frame is copied straight into the reserved space (no intermediate copy). */
#define XT_SAMP_RB_CLASS(N)                                                                         \
	if (cap <= N) {                                                                             \
		struct { struct xt_samp_hdr h; __u8 d[N]; } *r;                                     \
		r = bpf_ringbuf_reserve(&samp_ring, sizeof(*r), 0);                                 \
		if (!r)                                                                             \
			return -1;                                                                  \
		r->h = *h;                                                                          \
		/* 1 ≤ copy ≤ N for the verifier, right at the copy; the identity for cap in [1, N]. */ \
		if (bpf_xdp_load_bytes(ctx, 0, r->d, ((cap - 1) & (N - 1)) + 1) < 0) {               \
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);                                    \
			return -1;                                                                  \
		}                                                                                   \
		bpf_ringbuf_submit(r, flags);                                                       \
		return 0;                                                                           \
	}

static __always_inline long xt_samp_ringbuf(struct xdp_md *ctx, XT_SAMP_CFG_PTR cfg, const struct xt_samp_hdr *h, __u32 cap)
{
	__u32 slot = XT_SAMP_SUBMITTED;
	__u64 *submitted = bpf_map_lookup_elem(&samp_stats, &slot);
	__u64 flags = BPF_RB_NO_WAKEUP;

	/* Reading the fill touches the consumer position, a cache line the reader keeps writing
	 * from another CPU: look once per XT_SAMP_QUERY_EVERY records of this CPU, not per packet. */
	if (submitted && (*submitted & (XT_SAMP_QUERY_EVERY - 1)) == 0 &&
	    bpf_ringbuf_query(&samp_ring, BPF_RB_AVAIL_DATA) >= cfg->watermark)
		flags = BPF_RB_FORCE_WAKEUP;
	XT_SAMP_RB_CLASS(64)
	XT_SAMP_RB_CLASS(128)
	XT_SAMP_RB_CLASS(256)
	XT_SAMP_RB_CLASS(512)
	XT_SAMP_RB_CLASS(1024)
	XT_SAMP_RB_CLASS(2048)
	XT_SAMP_RB_CLASS(4096)
	/* Jumbo and multi-buffer frames (the program is xdp.frags; bpf_xdp_load_bytes reads across
	 * the fragments). A class up to twice the frame wastes ring space, never copy time. */
	XT_SAMP_RB_CLASS(8192)
	XT_SAMP_RB_CLASS(16384)
	XT_SAMP_RB_CLASS(32768)
	XT_SAMP_RB_CLASS(65536)
	XT_SAMP_RB_CLASS(131072)
	XT_SAMP_RB_CLASS(XT_SAMP_MAX_SNAP)
	return -1;
}

static __always_inline void xt_samp_bump(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&samp_stats, &slot);

	if (c) /* per-CPU slot: no other writer, no atomics needed */
		(*c)++;
}

static __always_inline void xt_sampler_stage(struct xdp_md *ctx, const struct xt_pkt *p, int action)
{
	XT_SAMP_CFG_PTR cfg = xt_samp_settings();
	if (!cfg)
		return;
	__u64 len = bpf_xdp_get_buff_len(ctx);
	__u32 snap = cfg->snaplen < XT_SAMP_MAX_SNAP ? cfg->snaplen : XT_SAMP_MAX_SNAP;
	__u32 cap = len < snap ? len : snap;
	long err;

	xt_samp_bump(XT_SAMP_SEEN);
	/* `sample --action drop`: only packets that got one of these verdicts (0 = any). Counted as
	 * filtered, so seen = sampled out + filtered + submitted + lost still holds. */
	if (cfg->actions && !(cfg->actions & (1u << (action & 31)))) {
		xt_samp_bump(XT_SAMP_FILTERED);
		return;
	}
	/* Decide before copying anything: a sampled-out packet costs one per-CPU counter step. */
	if (cfg->rate > 1 && !xt_samp_picked(cfg->rate)) {
		xt_samp_bump(XT_SAMP_SAMPLED_OUT);
		return;
	}

	/* Then the filter, still before any copy: a rejected packet costs the interpretation only. */
	if (cfg->kfilter) {
		__u32 zero = 0;
		const struct xt_cbpf_prog *f = bpf_map_lookup_elem(&samp_filter, &zero);

		if (f && !xt_cbpf_match(ctx, f, cap, len)) {
			xt_samp_bump(XT_SAMP_FILTERED);
			return;
		}
	}

	struct xt_samp_hdr h = {
		.tstamp = bpf_ktime_get_boot_ns(), .orig_len = len, .cap_len = cap,
		.ifindex = ctx->ingress_ifindex, .rx_queue = ctx->rx_queue_index,
		.cpu = bpf_get_smp_processor_id(), .action = action,
	};
	if (cfg->mode == XT_SAMP_MODE_PERF) {
		/* User space refuses a larger snaplen with perf; this keeps a record within a u16. */
		if (cap > XT_SAMP_PERF_MAX_SNAP)
			cap = h.cap_len = XT_SAMP_PERF_MAX_SNAP;
		/* The kernel appends `cap` bytes of the XDP buffer after h, itself (across fragments). */
		err = bpf_perf_event_output(ctx, &samp_perf, BPF_F_CURRENT_CPU | ((__u64)cap << 32), &h, sizeof(h));
	} else
		err = xt_samp_ringbuf(ctx, cfg, &h, cap);
	xt_samp_bump(err ? XT_SAMP_LOST : XT_SAMP_SUBMITTED);
}

#endif
