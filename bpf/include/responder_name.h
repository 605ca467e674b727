/* responder_name.h — the question name: copied out of the packet, its labels found, and its
 * suffixes looked up in resp_name_table (a hash of each, lowercased, eight bytes a step). */
#ifndef XDPTOOL_RESPONDER_NAME_H
#define XDPTOOL_RESPONDER_NAME_H

#include "responder_maps.h"

/* The copy's last word and the hash's words are put together by shifts that take the first byte
 * as the low one: BPF runs in the host's byte order, little-endian on x86 and arm64. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "responder_name.h shifts the question's words as little-endian"
#endif

/* Labels of a name of at most 255 bytes: 127 one-byte labels (2 bytes each) and the root byte. */
#define XT_RESP_LABELS_MAX 128

/* The label walk is a global function with a plain bounded loop: the verifier checks it once, on
 * its own, and at run time it is one call. Under bpf_loop every label cost a call of the callback,
 * and on this machine a call and its return cost ~10 ns (docs/07-xdp-tx.md, "The fast path").
 * The suffix walk below stays on bpf_loop: as a plain loop in a global function the verifier
 * could not merge the paths with and without a lookup and took 200k-560k instructions. */

/* Which label the shortest suffix of at least `min` bytes starts at (the suffix walk's first
 * lookup), or XT_RESP_LABELS_MAX when none is that long. The label count is re-read from scratch:
 * to the verifier an unknown number, not one of the 128 exits of the walk that calls this. */
static __always_inline __u32 xt_resp_first_suffix(struct xt_resp_scratch *s, __u32 len, __u32 min)
{
	for (int j = 0; j < XT_RESP_LABELS_MAX; j++) {
		__u32 labels = *(volatile __u32 *)&s->labels;
		if (j >= labels)
			break;
		__u32 k = labels - 1 - j;
		if (len - s->label[k & (XT_RESP_LABELS_MAX - 1)] >= min)
			return k;
	}
	return XT_RESP_LABELS_MAX;
}

/* The ones'-complement sum of the question's `q` bytes in s->name (the name, its root byte, QTYPE
 * and QCLASS), as 32-bit words in memory order, unfolded: the reply's UDP checksum adds it
 * (responder_reply.h). Summed here, eight bytes a step in registers, rather than by bpf_csum_diff
 * in the rewrite: one helper call fewer on the answered path. Bytes past `q` in the last word are
 * masked off (they are whatever the copy or an earlier query left there). */
static __always_inline __u64 xt_resp_question_sum(struct xt_resp_scratch *s, __u32 q)
{
	__u64 sum = 0;
	for (int w = 0; w < (XT_RESP_QUESTION_MAX + 7) / 8; w++) {
		__u32 at = w * 8;
		if (at >= q)
			break;
		__u64 v = s->name_w[(at >> 3) & 0x3f];
		if (q - at < 8)
			v &= (1ULL << ((q - at) * 8)) - 1;
		sum += (v & 0xffffffff) + (v >> 32);
	}
	return sum;
}

/* ASCII lowercase of eight bytes at once: 0x20 is added to each byte in 'A'..'Z' (0x41..0x5a).
 * On each byte's low seven bits, + 0x3f sets the top bit from 0x41 on and + 0x25 from 0x5b on,
 * neither carrying into the next byte; the two differ exactly for 'A'..'Z', and ~x keeps bytes
 * ≥ 0x80 (not ASCII) out. A length byte (≤ 63) is never changed. */
static __always_inline __u64 xt_resp_lower8(__u64 x)
{
	__u64 low7 = x & 0x7f7f7f7f7f7f7f7fULL;
	__u64 upper = ((low7 + 0x3f3f3f3f3f3f3f3fULL) ^ (low7 + 0x2525252525252525ULL)) & ~x & 0x8080808080808080ULL;
	return x | (upper >> 2); /* 0x80 >> 2 = 0x20 = 'a' - 'A' */
}

/* The hash of the suffix s->name[start, len) — what src/responder/config.ts suffixHash computes:
 * its bytes lowercased, as little-endian 64-bit words from `start` (the last one zero-padded),
 * h = (h ^ word) · mul for each. Eight bytes a step: a 13-byte suffix is two multiplications, where
 * a byte-at-a-time hash took thirteen, each waiting for the one before (the hash chain set the
 * pace of the whole lookup). A word starting at any byte is put together from the aligned words
 * of the copy around it: an unaligned read would straddle two of the copy's stores, which the CPU
 * cannot forward to it (the read waits for both to reach the cache), and clang, unable to prove
 * it aligned, splits a plain one into eight byte loads anyway. Little-endian, as the copy. */
static __always_inline __u64 xt_resp_suffix_hash(struct xt_resp_scratch *s, __u32 start, __u32 len)
{
	__u64 h = 0, mul = s->mul;
	for (int j = 0; j < (XT_DNS_NAME_MAX + 7) / 8; j++) {
		__u32 at = start + j * 8;
		if (at >= len)
			break;
		/* The word at byte `at`, from the two aligned words it straddles (at & 7 = 0: the first
		 * alone; the second is shifted out in two steps, as a shift by 64 is no shift in BPF). */
		__u32 i = at >> 3, sh = (at & 7) * 8;
		__u64 lo = s->name_w[i & 0x3f], hi = s->name_w[(i + 1) & 0x3f];
		__u64 w = (lo >> sh) | ((hi << (63 - sh)) << 1);
		if (len - at < 8)
			w &= (1ULL << ((len - at) * 8)) - 1; /* the root byte and what follows are not the suffix */
		h = (h ^ xt_resp_lower8(w)) * mul;
	}
	return h;
}

/* Is the suffix of the name that starts at byte `start` (a length byte) listed, `len` the name's
 * length? Looked for in resp_name_table by its length (`len` - `start` bytes) and hash. Returns 1
 * listed, 0 not, -1 when no suffix from here on can be (longer than the longest listed, or bad
 * bounds). Only ever inlined into global functions, which the verifier checks once each, on their
 * own: inside the bpf_loop callback the loops were re-verified for every state reaching it. */
static __always_inline int xt_resp_suffix_probe(struct xt_resp_scratch *s, __u32 start, __u32 len)
{
	if (!s || start >= len || len > XT_DNS_NAME_MAX)
		return -1;
	__u32 klen = len - start;
	/* Suffixes only grow from here: past the longest listed one, none can match. */
	if (s->max && klen > s->max)
		return -1;
	__u64 h = xt_resp_suffix_hash(s, start, len);
	/* Open addressing (responder_data.h): from the home slot on, until the suffix or an empty
	 * slot. Each lookup is inlined by the verifier (an array): no call. */
	__u32 base = s->base ? XT_RESP_NAME_SLOTS : 0;
	__u32 home = h >> (64 - XT_RESP_NAME_BITS);
	for (int p = 0; p < XT_RESP_NAME_PROBES; p++) {
		__u32 idx = base + ((home + p) & (XT_RESP_NAME_SLOTS - 1));
		const struct xt_resp_name *e = bpf_map_lookup_elem(&resp_name_table, &idx);
		if (!e || e->len == 0)
			return 0;
		if (e->len == klen && e->hash == h)
			return 1;
	}
	return 0;
}

/* Copy `n` (≤ XT_RESP_QUESTION_MAX) bytes of the frame from `off` into s->name: eight bytes a step,
 * then the last few one by one, each read checked against data_end right before it. Done here, in
 * the label walk's call, rather than by bpf_xdp_load_bytes: one helper call (and the memcpy
 * behind it) fewer. The frame is one buffer (the stage refused multi-buffer frames before).
 * Returns 0, or -1 when the frame ends first. */
static __always_inline int xt_resp_copy_question(struct xdp_md *ctx, struct xt_resp_scratch *s, __u32 off, __u32 n)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	/* The verifier wants every packet offset below 64 KiB (MAX_PACKET_OFF), the question's end
	 * included; a frame's one buffer is a page. The barrier: the check and the pointer must use
	 * one register (clang would zero-extend `off` afresh for the pointer, unchecked). */
	__u64 o = off;
	barrier_var(o);
	if (o > 0xfe00 || n > XT_RESP_QUESTION_MAX)
		return -1;
	const __u8 *start = data + o;
	__u32 at = 0;
	for (int w = 0; w < XT_RESP_QUESTION_MAX / 8; w++) {
		if (at + 8 > n)
			break;
		const __u8 *q = start + at;
		if ((void *)(q + 8) > data_end)
			return -1;
		s->name_w[(at >> 3) & 0x3f] = *(const __u64 *)q;
		at += 8;
	}
	/* The last n - at (1-7) bytes: the frame's word that ends at `n`, shifted down so that they
	 * start the word, and stored aligned like the others (little-endian: the first byte is the
	 * low one). One read and one store where a byte loop took up to seven of each, with a check
	 * apiece; and every later read of the copy meets whole stores, which the CPU forwards. */
	if (at < n && n >= 8) {
		/* n ≤ XT_RESP_QUESTION_MAX, so the mask changes nothing: it tells the verifier (which
		 * checked n on another register) that the read stays in bounds. */
		__u32 last = (n - 8) & 0xff;
		const __u8 *q = start + last;
		if ((void *)(q + 8) > data_end)
			return -1;
		s->name_w[(at >> 3) & 0x3f] = *(const __u64 *)q >> ((8 - (n - at)) * 8);
		return 0;
	}
	/* A question shorter than a word (the root name and QTYPE, QCLASS: 5 bytes), byte by byte. */
	for (int b = 0; b < 8; b++) {
		if (at >= n)
			break;
		const __u8 *q = start + at;
		if ((void *)(q + 1) > data_end)
			return -1;
		s->name[at & 0x1ff] = *q;
		at++;
	}
	return 0;
}

/* The name's labels, from the first: check each length byte and note where it starts (s->label,
 * s->labels). A length byte's top two bits are its type: 00 a label (≤ 63 bytes), 11 a compression
 * pointer (0xC0), 01/10 extended/reserved. Only plain labels are followed: a pointer would jump to
 * an offset the packet chooses, maybe backwards, maybe in a loop. `avail` bytes of the question
 * (at most XT_RESP_QUESTION_MAX), copied from the frame at `off` first: the root byte must come
 * within them and within 255. Returns the name's length without the root byte, or -1. Also notes
 * (s->first) the label where the suffix walk starts looking up: the last one whose suffix is at
 * least `min` (the shortest listed --qname) long, and its lookup's result (s->listed) when
 * s->want; and (s->qsum) the question's checksum sum. */
__attribute__((noinline)) int xt_resp_walk_labels(struct xdp_md *ctx, struct xt_resp_scratch *s, __u32 off, __u32 avail, __u32 min)
{
	if (!s || xt_resp_copy_question(ctx, s, off, avail))
		return -1;
	__u32 i = 0; /* the next length byte */
	int root = 0;
	for (int k = 0; k < XT_RESP_LABELS_MAX; k++) {
		if (i >= avail || i >= XT_DNS_NAME_MAX)
			return -1; /* ran past the UDP payload, or past 255 bytes */
		__u32 at = i;
		barrier_var(at); /* or clang drops the mask (i < 255 was checked, on another copy) */
		__u8 c = s->name[at & 0xff];
		if (c == 0) {
			s->labels = k;
			s->len = i;
			root = 1;
			break;
		}
		if (c > XT_DNS_LABEL_MAX)
			return -1;
		s->label[k & (XT_RESP_LABELS_MAX - 1)] = i;
		i += 1 + c;
	}
	if (!root)
		return -1;
	/* The length is read back from scratch: to the verifier one unknown number below 255, not
	 * the 128 ranges the loop's exits give it, each of which would verify the loops below anew. */
	__u32 len = *(volatile __u32 *)&s->len;
	if (len >= XT_DNS_NAME_MAX)
		return -1;
	__u32 first = xt_resp_first_suffix(s, len, min);
	s->first = first;
	s->qsum = xt_resp_question_sum(s, len + 5);
	/* With --qname, the first lookup too (xt_resp_name_listed): in this call, not one more. */
	s->listed = 0;
	if (s->want && first < XT_RESP_LABELS_MAX)
		s->listed = xt_resp_suffix_probe(s, s->label[first & (XT_RESP_LABELS_MAX - 1)], len);
	return len;
}

/*
 * The question, starting at byte `off` of the frame and ending before `limit` (end of the UDP
 * payload): copied into scratch by the label walk, which checks its name is plain (no compression
 * pointer, labels ≤ 63, the whole name ≤ 255 bytes) and notes where each label starts (s->label,
 * s->labels). Returns the name's length without the root byte, or -1. The copy keeps the
 * packet's case (the hash lowercases), and takes the 4 bytes after the longest name too: the
 * reply's checksum sums the question from it.
 */
static __always_inline int xt_resp_read_name(struct xdp_md *ctx, __u32 off, __u32 limit, struct xt_resp_scratch *s, __u32 min)
{
	if (off >= limit)
		return -1;
	__u32 n = limit - off;
	if (n > XT_RESP_QUESTION_MAX)
		n = XT_RESP_QUESTION_MAX;
	return xt_resp_walk_labels(ctx, s, off, n, min);
}

struct xt_resp_suffix_walk {
	struct xt_resp_scratch *s;
	int len;
	__u32 first; /* the label of the first lookup, done before the walk (s->first) */
	int found;
};

/* xt_resp_suffix_probe as one call, for the suffix walk's steps. */
__attribute__((noinline)) int xt_resp_suffix_listed(struct xt_resp_scratch *s, __u32 start, __u32 len)
{
	return xt_resp_suffix_probe(s, start, len);
}

/* One label further back than the last looked up: look the suffix that starts there up. */
static long xt_resp_suffix_step(__u64 index, void *arg)
{
	struct xt_resp_suffix_walk *w = arg;
	struct xt_resp_scratch *s = w->s;

	if (!s || index >= w->first)
		return 1; /* every suffix looked up: not listed */
	__u32 k = w->first - 1 - index; /* first < 128 and index < first: 0 ≤ k < 127 */
	int r = xt_resp_suffix_listed(s, s->label[k & (XT_RESP_LABELS_MAX - 1)], w->len);
	if (r > 0)
		w->found = 1;
	return r != 0;
}

/* Is some suffix of the name (starting at a label boundary) listed? Each suffix is hashed and
 * looked up, from the shortest back. So `example.test` matches www.Example.TEST but not
 * badexample.test (no label starts at "example" there). Suffixes shorter than the shortest listed
 * one are not looked up: the first lookup is at s->first, made by the label walk in its own call,
 * which for a name under a single listed --qname is the whole walk; only longer suffixes go
 * through bpf_loop. */
static __always_inline int xt_resp_name_listed(struct xt_resp_scratch *s, int len)
{
	__u32 first = s->first;
	if (first >= XT_RESP_LABELS_MAX)
		return 0; /* no suffix as long as the shortest listed */
	int r = s->listed; /* the first lookup, made by the label walk */
	if (r)
		return r > 0;
	struct xt_resp_suffix_walk w = { .s = s, .len = len, .first = first };

	bpf_loop(XT_RESP_LABELS_MAX, xt_resp_suffix_step, &w, 0);
	return w.found;
}

#endif
