/* responder_name.h — the question name: copied out of the packet, its labels found, and its
 * suffixes looked up in resp_names (a hash of each, from the last byte back, lowercased).
 *
 * Both walks step a label at a time, not a byte at a time: a bpf_loop iteration costs ~20 ns
 * here, and a byte-per-iteration copy-and-lowercase plus a byte-per-iteration hash walk took
 * ~700 of the ~800 ns an unlisted name cost (docs/06-xdp-tx.md, "The fast path"). */
#ifndef XDPTOOL_RESPONDER_NAME_H
#define XDPTOOL_RESPONDER_NAME_H

#include "responder_maps.h"

/* Labels of a name of at most 255 bytes: 127 one-byte labels (2 bytes each) and the root byte. */
#define XT_RESP_LABELS_MAX 128

/* The name loops run under bpf_loop(): the verifier checks the callback once for any index,
 * instead of walking up to 128 iterations per path (which exceeds its 1M-instruction budget). */
struct xt_resp_name_walk {
	struct xt_resp_scratch *s; /* passed in, not looked up per call: 146 → 113 ns per unlisted name */
	__u32 avail;   /* bytes of the question copied into scratch */
	__u32 next;    /* index of the next length byte */
	int len;       /* name length without the root byte; -1 until the root byte is seen */
	__u32 labels;  /* label starts noted in s->label[] */
};

static long xt_resp_label_step(__u64 index, void *arg)
{
	struct xt_resp_name_walk *w = arg;
	struct xt_resp_scratch *s = w->s;
	__u32 i = w->next;

	if (!s || i >= w->avail)
		return 1; /* ran past the UDP payload: len stays -1 */
	/* & 0xff: the verifier does not carry i < avail ≤ 255 into the callback. */
	__u8 c = s->name[i & 0xff];
	if (c == 0) {
		w->len = i;
		return 1;
	}
	/* A length byte's top two bits are its type: 00 a label (≤ 63 bytes), 11 a compression
	 * pointer (0xC0), 01/10 extended/reserved. Only plain labels are followed: a pointer would
	 * jump to an offset the packet chooses, maybe backwards, maybe in a loop. */
	if (c > XT_DNS_LABEL_MAX)
		return 1;
	s->label[index & (XT_RESP_LABELS_MAX - 1)] = i;
	w->labels = index + 1;
	w->next = i + 1 + c; /* past the copy when the label runs off it: ends as -1 above */
	return 0;
}

/*
 * Copy the question name, starting at byte `off` of the frame and ending before `limit` (end of
 * the UDP payload), into scratch and check it is plain: no compression pointer, labels ≤ 63, the
 * whole name ≤ 255 bytes. Notes where each label starts (s->label, s->labels). Returns its
 * length without the root byte, or -1. The copy keeps the packet's case: the hash lowercases.
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
	bpf_loop(XT_RESP_LABELS_MAX, xt_resp_label_step, &w, 0);
	s->labels = w.labels;
	return w.len;
}

struct xt_resp_suffix_walk {
	struct xt_resp_scratch *s;
	int len;
	__u32 min, max; /* listed suffix lengths (cfg->qname_min/max); max 0: no bounds known */
	__u64 mul;
	__u64 h;
	int found;
};

/* The hash h extended over the bytes of one label, its last byte first, lowercased, then over its
 * length byte at `start` (the label ends before `end`). A global function: the verifier checks it
 * once, on its own, where the same byte loop inside the bpf_loop callback was re-verified
 * iteration by iteration for every state reaching the callback and blew its 1M budget. */
__attribute__((noinline)) __u64 xt_resp_hash_label(struct xt_resp_scratch *s, __u32 start, __u32 end, __u64 h, __u64 mul)
{
	if (!s)
		return h;
	/* The label's bytes, end - 1 down to start + 1: at most 63 (the walk checked each length). */
	for (int j = 0; j < XT_DNS_LABEL_MAX; j++) {
		__u32 i = end - 1 - j;
		if (i <= start || i >= end)
			break;
		__u8 c = s->name[i & 0xff];
		c += (__u8)(c - 'A') < 26 ? 32 : 0; /* ASCII lowercase; length bytes (≤ 63) are never touched */
		h = h * mul + c + 1;
	}
	return h * mul + s->name[start & 0xff] + 1; /* the length byte */
}

/* One label, from the last one back: extend the hash over its bytes (last first, lowercased),
 * then over its length byte, and look the suffix that starts there up. */
static long xt_resp_suffix_step(__u64 index, void *arg)
{
	struct xt_resp_suffix_walk *w = arg;
	struct xt_resp_scratch *s = w->s;

	if (!s || index >= s->labels)
		return 1; /* every suffix looked up: not listed */
	__u32 k = s->labels - 1 - index; /* labels is ≤ 128 and index < labels: 0 ≤ k < 128 */
	__u32 start = s->label[k & (XT_RESP_LABELS_MAX - 1)];
	__u32 end = k + 1 < s->labels ? s->label[(k + 1) & (XT_RESP_LABELS_MAX - 1)] : (__u32)w->len;
	__u64 h = xt_resp_hash_label(s, start, end, w->h, w->mul);
	w->h = h;
	struct xt_resp_name key = { .len = w->len - start, .hash = h };
	/* Suffixes only grow from here: past the longest listed one, none can match. One shorter
	 * than the shortest listed is not looked up (a lookup is most of a step's cost). */
	if (w->max && key.len > w->max)
		return 1;
	if (w->max && key.len < w->min)
		return 0;
	if (bpf_map_lookup_elem(&resp_names, &key)) {
		w->found = 1;
		return 1;
	}
	return 0;
}

/* Is some suffix of the name (starting at a label boundary) in resp_names? The hash grows from the
 * last byte back and is looked up at each label start. So `example.test` matches www.Example.TEST
 * but not badexample.test (no label starts at "example" there). */
static __always_inline int xt_resp_name_listed(struct xt_resp_scratch *s, int len, const struct xt_resp_config *cfg)
{
	struct xt_resp_suffix_walk w = { .s = s, .len = len, .mul = cfg->hash_mul, .min = cfg->qname_min, .max = cfg->qname_max };

	bpf_loop(XT_RESP_LABELS_MAX, xt_resp_suffix_step, &w, 0);
	return w.found;
}

#endif
