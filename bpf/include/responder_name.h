/* responder_name.h — the question name: copied and lowercased under bpf_loop, its label starts
 * noted, and its suffixes looked up in resp_names (a hash of each, from the last byte back). */
#ifndef XDPTOOL_RESPONDER_NAME_H
#define XDPTOOL_RESPONDER_NAME_H

#include "responder_maps.h"

/* The name loops run under bpf_loop(): the verifier checks the callback once for any index,
 * instead of walking up to 255 iterations per path (which exceeds its 1M-instruction budget). */
struct xt_resp_name_walk {
	struct xt_resp_scratch *s; /* passed in, not looked up per call: 146 → 113 ns per unlisted name */
	__u32 avail; /* bytes of the question copied into scratch */
	__u32 next;  /* index of the next length byte */
	int len;     /* name length without the root byte; -1 until the root byte is seen */
};

static long xt_resp_name_step(__u64 index, void *arg)
{
	struct xt_resp_name_walk *w = arg;
	struct xt_resp_scratch *s = w->s;
	/* The callback is verified once for ANY index: without the mask, s->name[i] is an "unbounded
	 * memory access". & 0xff proves i < 256 = sizeof(s->name); avail (≤ 255) is the real limit. */
	__u32 i = index & 0xff;

	if (!s || i >= w->avail)
		return 1; /* ran past the UDP payload: len stays -1 */
	__u8 c = s->name[i];
	if (i == w->next) {
		if (c == 0) {
			w->len = i;
			return 1;
		}
		/* A length byte's top two bits are its type: 00 a label (≤ 63 bytes), 11 a compression
		 * pointer (0xC0), 01/10 extended/reserved. Only plain labels are followed: a pointer
		 * would jump to an offset the packet chooses, maybe backwards, maybe in a loop. */
		if (c > XT_DNS_LABEL_MAX)
			return 1; /* 0xC0 compression pointer, or an extended label type */
		w->next = i + 1 + c; /* past i + c when the label runs off the copy: ends as -1 above */
		s->start[i] = 1;
	} else {
		s->name[i] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		s->start[i] = 0;
	}
	return 0;
}

/*
 * Copy the question name, starting at byte `off` of the frame and ending before `limit` (end of
 * the UDP payload), into scratch, lowercased, and check it is plain: no compression pointer,
 * labels ≤ 63, the whole name ≤ 255 bytes. Returns its length without the root byte, or -1.
 */
static __always_inline int xt_resp_read_name(struct xdp_md *ctx, __u32 off, __u32 limit, struct xt_resp_scratch *s)
{
	if (off >= limit)
		return -1;
	/* One helper call copies the name out of the packet: reading it in place would need a
	 * data_end check per byte at a packet-chosen offset. The verifier wants the length proven
	 * to lie in [1, sizeof(s->name)] right here: without the clamp it is unbounded, and without
	 * `n < 1` it rejects "invalid zero-sized read", although off < limit already implies n ≥ 1. */
	__u32 n = limit - off;
	if (n > XT_DNS_NAME_MAX)
		n = XT_DNS_NAME_MAX; /* a longer name has no root byte in the first 255: rejected below */
	if (n < 1 || bpf_xdp_load_bytes(ctx, off, s->name, n))
		return -1;
	struct xt_resp_name_walk w = { .s = s, .avail = n, .len = -1 };
	bpf_loop(XT_DNS_NAME_MAX, xt_resp_name_step, &w, 0);
	return w.len;
}

struct xt_resp_suffix_walk {
	struct xt_resp_scratch *s;
	int len;
	__u64 mul;
	__u64 h;
	int found;
};

static long xt_resp_suffix_step(__u64 index, void *arg)
{
	struct xt_resp_suffix_walk *w = arg;
	struct xt_resp_scratch *s = w->s;
	int i = w->len - 1 - (int)index; /* from the last byte of the name backwards */

	/* i < 0: done (a name that was not listed). `i & 0xff` below: the verifier does not carry
	 * 0 ≤ i < len ≤ 254 into the callback, and rejects the unmasked index as unbounded. */
	if (!s || i < 0)
		return 1;
	w->h = w->h * w->mul + (__u64)s->name[i & 0xff] + 1;
	if (s->start[i & 0xff]) {
		struct xt_resp_name k = { .len = w->len - i, .hash = w->h };
		if (bpf_map_lookup_elem(&resp_names, &k)) {
			w->found = 1;
			return 1;
		}
	}
	return 0;
}

/* Is some suffix of the name (starting at a label boundary) in resp_names? Walk from the last byte
 * back, extending the hash one byte at a time, and look up at each label start. So `example.test`
 * matches www.Example.TEST but not badexample.test (no label starts at "example" there). */
static __always_inline int xt_resp_name_listed(struct xt_resp_scratch *s, int len, __u64 mul)
{
	struct xt_resp_suffix_walk w = { .s = s, .len = len, .mul = mul };

	bpf_loop(XT_DNS_NAME_MAX, xt_resp_suffix_step, &w, 0);
	return w.found;
}

#endif
