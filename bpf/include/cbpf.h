/* cbpf.h — run a classic BPF filter (what libpcap compiles a tcpdump expression to) on an XDP
 * packet, so packets the filter rejects are never copied to user space.
 *
 * One instruction per bpf_loop() iteration: the callback is verified once, not per unrolled step.
 * Classic BPF only jumps forward, so a program of n instructions ends within n iterations; we
 * give it XT_CBPF_MAX and treat running off the end as "reject". Loads past `caplen` (the bytes
 * the capture keeps) reject the packet, as libpcap does when it filters a file — so the kernel
 * and `tcpdump -r` agree on every packet.
 */
#ifndef XDPTOOL_CBPF_H
#define XDPTOOL_CBPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "xdptool.h"

/* The interpreter's registers live in a per-CPU map value, not on the stack: the verifier then
 * sees them as unknown numbers, so the loop body's states converge after a few iterations
 * instead of being explored once per possible program counter (which exceeds its budget). */
struct xt_cbpf_state {
	__u32 a, x, pc, caplen, wirelen, match;
	__u32 mem[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_cbpf_state);
} samp_cbpf SEC(".maps");

struct xt_cbpf_run {
	struct xdp_md *ctx;
	const struct xt_cbpf_prog *prog;
	struct xt_cbpf_state *s;
};

/* Big-endian load of 1, 2 or 4 bytes at `off`; -1 when it lies past caplen. Straight from the
 * packet when the bytes are in its linear part: most filters load a few header fields per packet,
 * and a helper call per load was most of the interpreter's cost. Through bpf_xdp_load_bytes()
 * otherwise (a fragment of a multi-buffer frame, or an offset past 16 KiB). */
static __always_inline int xt_cbpf_load(struct xt_cbpf_run *r, __u32 off, __u32 size, __u32 *v)
{
	__u8 *data = (__u8 *)(long)r->ctx->data, *end = (__u8 *)(long)r->ctx->data_end, *p;
	__u8 b[4] = {};

	if (off > 0xffff || off + size > r->s->caplen)
		return -1;
	/* The verifier takes a variable packet offset only if it knows a bound small enough that
	 * offset + access size stays ≤ 0xffff: mask it to 16 KiB, after an optimisation barrier (the
	 * compiler would otherwise drop the mask, or derive `p` from an unbounded copy of `off`). */
	asm volatile("" : "+r"(off));
	p = data + (off & 0x3fff);
	if (off <= 0x3fff) {
		if (size == 4 && p + 4 <= end) {
			*v = (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
			return 0;
		}
		if (size == 2 && p + 2 <= end) {
			*v = (__u32)p[0] << 8 | p[1];
			return 0;
		}
		if (size == 1 && p + 1 <= end) {
			*v = p[0];
			return 0;
		}
	}
	if (size == 4) {
		if (bpf_xdp_load_bytes(r->ctx, off, b, 4))
			return -1;
		*v = (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
	} else if (size == 2) {
		if (bpf_xdp_load_bytes(r->ctx, off, b, 2))
			return -1;
		*v = (__u32)b[0] << 8 | b[1];
	} else {
		if (bpf_xdp_load_bytes(r->ctx, off, b, 1))
			return -1;
		*v = b[0];
	}
	return 0;
}

/* One instruction. Returns 1 to stop the loop (verdict in r->match), 0 to go on. */
static long xt_cbpf_step(__u32 i, void *data)
{
	struct xt_cbpf_run *r = data;
	struct xt_cbpf_state *s = r->s;
	__u32 pc = s->pc, k, v = 0;
	__u16 code;

	if (pc >= XT_CBPF_MAX || pc >= r->prog->len)
		return 1; /* ran off the end: reject (match stays 0) */
	code = r->prog->insns[pc].code;
	k = r->prog->insns[pc].k;
	s->pc = pc + 1;
	switch (code & 0x07) {
	case 0x00: /* LD */
	case 0x01: /* LDX */
		switch (code & 0xe0) {
		case 0x00: v = k; break;                 /* IMM */
		case 0x80: v = s->wirelen; break;        /* LEN */
		case 0x60: v = s->mem[k & 15]; break;    /* MEM */
		case 0xa0:                               /* MSH: 4 * (P[k] & 0xf) */
			if (xt_cbpf_load(r, k, 1, &v))
				return 1;
			v = (v & 0xf) << 2;
			break;
		default: {                               /* ABS, IND */
			/* X + k in 64 bits: past 2^32 it is no match, as in libpcap's bpf_filter —
			 * wrapped in 32 bits, it would load from the start of the packet instead. */
			__u64 off = (code & 0xe0) == 0x40 ? (__u64)s->x + k : k;
			__u32 size = (code & 0x18) == 0x00 ? 4 : (code & 0x18) == 0x08 ? 2 : 1;

			if (off > 0xffffffffULL || xt_cbpf_load(r, (__u32)off, size, &v))
				return 1;
		}
		}
		if ((code & 0x07) == 0x00)
			s->a = v;
		else
			s->x = v;
		return 0;
	case 0x02: s->mem[k & 15] = s->a; return 0; /* ST */
	case 0x03: s->mem[k & 15] = s->x; return 0; /* STX */
	case 0x04:                                  /* ALU */
		v = code & 0x08 ? s->x : k;
		switch (code & 0xf0) {
		case 0x00: s->a += v; break;
		case 0x10: s->a -= v; break;
		case 0x20: s->a *= v; break;
		case 0x30: if (!v) return 1; s->a /= v; break;
		case 0x40: s->a |= v; break;
		case 0x50: s->a &= v; break;
		case 0x60: s->a = v >= 32 ? 0 : s->a << v; break;
		case 0x70: s->a = v >= 32 ? 0 : s->a >> v; break;
		case 0x80: s->a = -s->a; break;
		case 0x90: if (!v) return 1; s->a %= v; break;
		case 0xa0: s->a ^= v; break;
		default: return 1;
		}
		return 0;
	case 0x05: {                                /* JMP: forward only */
		__u32 op = code & 0xf0, t;

		if (op == 0x00) {
			s->pc += k;
			return 0;
		}
		v = code & 0x08 ? s->x : k;
		t = op == 0x10 ? s->a == v : op == 0x20 ? s->a > v : op == 0x30 ? s->a >= v : op == 0x40 ? (s->a & v) != 0 : 0;
		s->pc += t ? r->prog->insns[pc].jt : r->prog->insns[pc].jf;
		return 0;
	}
	case 0x06:                                  /* RET */
		s->match = ((code & 0x18) == 0x10 ? s->a : k) != 0;
		return 1;
	case 0x07:                                  /* MISC: TAX / TXA */
		if (code & 0x80)
			s->a = s->x;
		else
			s->x = s->a;
		return 0;
	}
	return 1;
}

/* 1 when the packet matches the filter, 0 when not. */
static __always_inline int xt_cbpf_match(struct xdp_md *ctx, const struct xt_cbpf_prog *prog, __u32 caplen, __u32 wirelen)
{
	__u32 zero = 0;
	struct xt_cbpf_state *s = bpf_map_lookup_elem(&samp_cbpf, &zero);
	struct xt_cbpf_run r = { .ctx = ctx, .prog = prog, .s = s };

	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->caplen = caplen;
	s->wirelen = wirelen;
	bpf_loop(XT_CBPF_MAX, xt_cbpf_step, &r, 0);
	return s->match;
}

#endif
