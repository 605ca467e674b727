// sampdrain.c — `xdptool sample`'s ring buffer read straight into pcap or pcapng records.
//
// Why C: this is the one loop of a capture that runs once per packet. In TypeScript each record
// cost ~90–250 ns (reading the header fields, the timestamp arithmetic, the writer's calls), which
// held lossless capture-and-drop to ~0.3× the bare-drop rate (docs/05 "A reader in C"). Here a
// record is a few loads, a header and one memcpy. Everything that is not per packet — which
// records go this way, rotation, -c, errors — stays in TypeScript (src/sampler/session.ts), which
// also keeps the per-record path for the cases this one does not cover (a filter in user space,
// printed lines, the perf transport).
//
// The ring (kernel/bpf/ringbuf.c, src/ffi/ringbuf.ts): consumer position (we write it), producer
// position (the kernel), the data area mapped twice in a row (a record that wraps is contiguous).
// Each record: u32 length with BUSY/DISCARD in the top bits, u32 page offset, then struct
// xt_samp_hdr and the frame, padded to 8.
#include <stdint.h>
#include <string.h>

#define RB_BUSY (1u << 31)
#define RB_DISCARD (1u << 30)
#define RB_HDR 8
#define NSEC 1000000000ull

/* struct xt_samp_hdr (bpf/include/xdptool.h; src/sampler/layout.ts checks the offsets). */
struct sample_hdr {
	uint64_t tstamp; /* bpf_ktime_get_boot_ns() */
	uint32_t orig_len, cap_len, ifindex, rx_queue, cpu, action;
};

/* One call's limits and results, all u64 (src/ffi/sampdrain.ts lays it out). */
struct xt_drain {
	uint64_t mask;                /* ring size - 1 */
	uint64_t wall_sec, wall_nsec; /* boot clock → wall clock */
	uint64_t room;                /* bytes free at `out` */
	uint64_t max_records;         /* -c: records still wanted */
	uint64_t size;                /* bytes in the current file so far (counted on by this call) */
	uint64_t size_limit;          /* -C: stop before a record once size exceeds this */
	uint64_t sec_limit;           /* -G: stop before a record stamped at or after this second */
	uint64_t pcapng;              /* 0: pcap records, 1: pcapng enhanced packet blocks */
	uint64_t records, bytes, why, need; /* out: written, bytes written, why it stopped, room the next record needs */
};

enum { XT_DRAIN_EMPTY, XT_DRAIN_ROOM, XT_DRAIN_COUNT, XT_DRAIN_ROTATE };

/* pcapng options on every live record: epb_flags (inbound), epb_queue, epb_verdict (type 2 = eBPF XDP). */
#define EPB 6
#define EPB_TAIL (8 + 8 + 16 + 4 + 4)

static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

int64_t xt_samp_drain(uint8_t *cons_page, const uint8_t *prod_page, const uint8_t *data, uint8_t *out, struct xt_drain *d)
{
	uint64_t prod = __atomic_load_n((const uint64_t *)prod_page, __ATOMIC_ACQUIRE);
	uint64_t cons = *(uint64_t *)cons_page; /* only we write it */
	uint64_t written = 0, records = 0, size = d->size;
	uint64_t why = XT_DRAIN_EMPTY;

	d->need = 0;
	while (cons < prod) {
		const uint8_t *rec = data + (cons & d->mask);
		uint32_t len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
		if (len & RB_BUSY)
			break; /* reserved, not yet committed: the records after it wait for it */
		uint32_t bytes = len & ~(RB_BUSY | RB_DISCARD);
		uint64_t next = cons + ((bytes + RB_HDR + 7) & ~7u);
		if (len & RB_DISCARD) {
			cons = next;
			continue;
		}
		if (records >= d->max_records) {
			why = XT_DRAIN_COUNT;
			break;
		}
		struct sample_hdr h;
		memcpy(&h, rec + RB_HDR, sizeof(h));
		uint64_t s = h.tstamp / NSEC;
		uint64_t sec = s + d->wall_sec, nsec = h.tstamp - s * NSEC + d->wall_nsec;
		if (nsec >= NSEC) {
			nsec -= NSEC;
			sec++;
		}
		if (sec >= d->sec_limit || size > d->size_limit) {
			why = XT_DRAIN_ROTATE; /* the caller takes this record itself, after rotating */
			break;
		}
		uint32_t cap = h.cap_len, padded = (cap + 3) & ~3u;
		uint64_t need = d->pcapng ? 28 + padded + EPB_TAIL : 16 + cap;
		if (written + need > d->room) {
			why = XT_DRAIN_ROOM;
			d->need = need;
			break;
		}
		const uint8_t *frame = rec + RB_HDR + sizeof(h);
		uint8_t *o = out + written;
		if (!d->pcapng) {
			put32(o, (uint32_t)sec);
			put32(o + 4, (uint32_t)nsec);
			put32(o + 8, cap);
			put32(o + 12, h.orig_len);
			memcpy(o + 16, frame, cap);
		} else {
			uint64_t ns = sec * NSEC + nsec; /* if_tsresol 9: high word first */
			put32(o, EPB);
			put32(o + 4, (uint32_t)need);
			put32(o + 8, 0); /* interface 0 */
			put32(o + 12, (uint32_t)(ns >> 32));
			put32(o + 16, (uint32_t)ns);
			put32(o + 20, cap);
			put32(o + 24, h.orig_len);
			memcpy(o + 28, frame, cap);
			memset(o + 28 + cap, 0, padded - cap);
			uint8_t *p = o + 28 + padded;
			put32(p, 2 | (4 << 16)); /* epb_flags: inbound */
			put32(p + 4, 1);
			put32(p + 8, 6 | (4 << 16)); /* epb_queue */
			put32(p + 12, h.rx_queue);
			put32(p + 16, 7 | (9 << 16)); /* epb_verdict: type octet, then the u64 verdict */
			put32(p + 20, 2 | (h.action << 8));
			put32(p + 24, 0);
			put32(p + 28, 0);
			put32(p + 32, 0); /* opt_endofopt */
			put32(p + 36, (uint32_t)need);
		}
		written += need;
		size += need;
		records++;
		cons = next;
	}
	__atomic_store_n((uint64_t *)cons_page, cons, __ATOMIC_RELEASE);
	d->records = records;
	d->bytes = written;
	d->why = why;
	return (int64_t)records;
}
