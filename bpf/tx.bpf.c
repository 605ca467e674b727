/* tx.bpf.c — the lab's traffic generator: send the frame back out with XDP_TX.
 *
 * It is never attached. `xdptool lab traffic` runs it through BPF_PROG_TEST_RUN with the
 * BPF_F_TEST_XDP_LIVE_FRAMES flag: the kernel builds real frames from the test input and acts on
 * the verdict, so XDP_TX transmits each copy out of the generator's veth end at line rate.
 *
 * The kernel fills each page of its LIVE_FRAMES pool with the test frame only once and recycles
 * pages afterwards. veth hands the very page to the receiver, so a receiver that rewrites frames
 * in place (the DNS responder turns queries into replies with XDP_TX) would make us send its
 * rewritten frames next time round. So the frame is copied from `tx_template` before each send.
 *
 * With --src-random / --src-from each frame then gets a new IPv4 source, and the IPv4 and UDP/TCP
 * checksums are updated incrementally (the template is fixed, so user space precomputes the rest).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "include/tx.h"

const volatile struct tx_src_cfg tx_src_cfg = { .mode = TX_SRC_PREFIX };
/* TX_SRC_CYCLE: the next entry. Plain, not atomic: a test run sends from one CPU, and a lost
 * update would only send one source twice. */
__u32 tx_cursor;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tx_template);
} tx_template SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sizes it to the list before load */
	__type(key, __u32);
	__type(value, struct tx_src);
} tx_sources SEC(".maps");

/* ~(base + the new source's two words), folded: the new checksum (RFC 1624 eqn. 3). */
static __always_inline __u16 csum_with(__u32 base, __u32 addr)
{
	__u32 s = base + (addr >> 16) + (addr & 0xffff);

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

static __always_inline int new_source(struct xdp_md *ctx, struct tx_template *t)
{
	__u32 addr;

	if (tx_src_cfg.mode == TX_SRC_PREFIX) {
		addr = tx_src_cfg.addr | (bpf_get_prandom_u32() & tx_src_cfg.hostmask);
	} else {
		__u32 i;

		if (tx_src_cfg.mode == TX_SRC_CYCLE) {
			i = tx_cursor;
			tx_cursor = i + 1 < tx_src_cfg.count ? i + 1 : 0;
		} else { /* multiply-shift maps a random u32 onto [0, count) without a division */
			i = ((__u64)bpf_get_prandom_u32() * tx_src_cfg.count) >> 32;
		}
		struct tx_src *s = bpf_map_lookup_elem(&tx_sources, &i);

		if (!s)
			return XDP_ABORTED;
		addr = s->addr;
		if (s->hostmask)
			addr |= bpf_get_prandom_u32() & s->hostmask;
	}

	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *ip = data + (t->ip_off & 0xff); /* bounded for the verifier; user space checked it */

	if ((void *)(ip + 20) > end)
		return XDP_ABORTED;
	*(__u32 *)(ip + 12) = bpf_htonl(addr);
	*(__u16 *)(ip + 10) = bpf_htons(csum_with(t->ip_csum_base, addr));
	if (t->l4_csum_off) {
		__u8 *c = data + (t->l4_csum_off & 0x1ff);

		if ((void *)(c + 2) > end)
			return XDP_ABORTED;
		__u16 v = csum_with(t->l4_csum_base, addr);
		*(__u16 *)c = bpf_htons(v ? v : 0xffff); /* UDP: 0 means "no checksum"; TCP takes either */
	}
	return XDP_TX;
}

/* Write the template over the frame. NULL when there is none (send the frame as it is), and
 * *verdict XDP_ABORTED if the template is longer than the frame: a bug on our side, made visible. */
static __always_inline struct tx_template *copy_template(struct xdp_md *ctx, int *verdict)
{
	__u32 zero = 0;
	struct tx_template *t = bpf_map_lookup_elem(&tx_template, &zero);

	if (!t)
		return NULL;
	/* Masked, then tested for zero right before the call: the verifier needs 1 ≤ len ≤ value size. */
	__u32 len = t->len & (TX_TEMPLATE_MAX - 1);
	if (len != 0 && bpf_xdp_store_bytes(ctx, 0, t->data, len)) {
		*verdict = XDP_ABORTED;
		return NULL;
	}
	return t;
}

/* The plain generator: every frame is the template. */
SEC("xdp")
int tx(struct xdp_md *ctx)
{
	int verdict = XDP_TX;

	copy_template(ctx, &verdict);
	return verdict;
}

/* A new IPv4 source per frame (tx_src_cfg). A program of its own, so that `tx` stays as cheap as
 * it was; user space loads one or the other. */
SEC("xdp")
int tx_src(struct xdp_md *ctx)
{
	int verdict = XDP_TX;
	struct tx_template *t = copy_template(ctx, &verdict);

	return t ? new_source(ctx, t) : verdict;
}

char LICENSE[] SEC("license") = "GPL";
