/* xdptool.h — the data both sides see: the BPF programs and the TypeScript side (src/ffi/layout.ts).
 *
 * Only plain fixed-width types and constants live here, never code, so user space can mirror every
 * struct byte for byte; test/layout.test.ts compiles this header and compares sizes and offsets.
 */
#ifndef XDPTOOL_H
#define XDPTOOL_H

/* Statistics: one per-CPU array `xdptool_stats`, one slot per counter. Per-CPU, because a shared
 * counter would bounce its cache line between CPUs on every packet; user space sums the CPUs. */
enum xt_stat {
	/* Slots 0..4 are indexed by the XDP action itself (XDP_ABORTED=0 … XDP_REDIRECT=4). */
	XT_STAT_ABORTED = 0,
	XT_STAT_DROP,
	XT_STAT_PASS,
	XT_STAT_TX,
	XT_STAT_REDIRECT,
	/* L3 protocol of the packet (outermost after VLAN tags). */
	XT_STAT_IPV4,
	XT_STAT_IPV6,
	XT_STAT_ARP,
	XT_STAT_L3_OTHER,
	/* L4 protocol; counted for IP packets only. */
	XT_STAT_TCP,
	XT_STAT_UDP,
	XT_STAT_ICMP,
	XT_STAT_ICMPV6,
	XT_STAT_L4_OTHER,
	/* Undecidable IP packets, one slot per enum xt_l4_unknown reason (slot = XT_STAT_L4U_IP_CUT - 1
	 * + reason): the upper-layer protocol or ports could not be read though they must exist. */
	XT_STAT_L4U_IP_CUT,
	XT_STAT_L4U_EXT_CUT,
	XT_STAT_L4U_PORTS_CUT,
	XT_STAT_L4U_FRAG_CUT,
	XT_STAT_L4U_CHAIN_LONG,
	XT_STAT_MAX,
};

/* struct xt_pkt.l4_unknown (parsing.h): why the upper-layer protocol or its ports could not be
 * determined for an IPv4/IPv6 packet that must carry them. 0 when they were read, and also when
 * none are expected: not IP, a later fragment (offset > 0: its ports sit in the first fragment, which
 * is judged; fragment == 2, l4_proto set, no ports), or a protocol without ports (ICMP, ESP, No Next
 * Header). "The end of the packet" is the IP length (total length, payload length) or the end of the
 * frame, whichever comes first; Ethernet padding after the IP packet is never read as a header.
 * Whenever l4_unknown != 0: l4_off == 0, sport == dport == 0, and a rule naming a port or an L4
 * protocol cannot be decided — fail closed. */
enum xt_l4_unknown {
	XT_L4U_NONE = 0,
	XT_L4U_IP_CUT,     /* IPv4/IPv6 header cut short or malformed (version, IHL < 5, options past the end);
			    * truncated = 1; the addresses are readable only if the fixed header fit */
	XT_L4U_EXT_CUT,    /* an IPv6 extension header runs past the end: l4_proto is that header's type */
	XT_L4U_PORTS_CUT,  /* TCP/UDP (l4_proto set), but its first 4 bytes run past the end */
	XT_L4U_FRAG_CUT,   /* first fragment (fragment == 1) whose headers stop before L4 or inside the
			    * ports: RFC 8200 §4.5 (Linux discards the IPv6 ones; l4_proto as in EXT/PORTS_CUT) */
	XT_L4U_CHAIN_LONG, /* the chain goes further than the walk: more IPv6 extension headers than
			    * XT_IPV6_EXT_INLINE + XT_IPV6_EXT_MAX (8194, more than a 64 KiB payload holds), or
			    * L4 starting past XT_L4_OFF_MAX (32 KiB) into the frame; l4_proto = last type seen */
	XT_L4U_MAX,
};

struct xt_counter {
	__u64 packets;
	__u64 bytes;
};

#define XT_STATS_MAP "xdptool_stats"

/* Features of the combined program (bpf/xdptool.bpf.c), bits of xt_features.enabled. The stages
 * run in this order: the blacklist first (a dropped packet is never answered), then the DNS
 * responder, then the sampler, which sees the verdict the stages before it reached. */
#define XT_F_BLACKLIST (1u << 0)
#define XT_F_RESPONDER (1u << 1)
#define XT_F_SAMPLER (1u << 2)

struct xt_features {
	__u32 enabled;  /* XT_F_* */
	__u32 layout;   /* XT_LAYOUT_VERSION of the program that wrote it */
};

/* Bumped whenever a pinned map of the combined program changes shape; see src/combined/bits.ts. */
#define XT_LAYOUT_VERSION 6 /* 6: resp_name_slots became resp_name_table (a word-at-a-time suffix hash). 5: resp_names (hash) became resp_name_slots (array). 4: bl_host4. 3: resp_config, resp_scratch, resp_stats grew; resp_verified. 2: xdptool_stats gained the XT_STAT_L4U_* slots */

/* Sampler (bpf/include/sampler.h, src/sampler/): each captured packet reaches user space as this
 * header followed by cap_len bytes of the frame, through a perf event array or a BPF ring buffer. */
struct xt_samp_hdr {
	__u64 tstamp;   /* bpf_ktime_get_boot_ns() at the packet; user space adds the wall-clock offset */
	__u32 orig_len; /* length of the frame on the wire */
	__u32 cap_len;  /* bytes that follow (min(orig_len, snaplen)) */
	__u32 ifindex;
	__u32 rx_queue;
	__u32 cpu;
	__u32 action;   /* XDP verdict the program returned for the packet */
};

/* Per-CPU counters of the sampler (map samp_stats);
 * seen = sampled_out + filtered + submitted + lost. */
enum xt_samp_stat {
	XT_SAMP_SEEN = 0,
	XT_SAMP_SAMPLED_OUT, /* skipped by --rate before any copy */
	XT_SAMP_SUBMITTED,   /* handed to the perf/ring buffer */
	XT_SAMP_LOST,        /* buffer full: lost in the kernel */
	XT_SAMP_FILTERED,    /* rejected by the in-kernel filter (never copied) */
	XT_SAMP_STAT_MAX,
};

/* The sampler's settings: the program's only read-only global, set by user space before load. */
struct xt_samp_cfg {
	__u64 watermark; /* ring buffer: unread bytes past which a submit forces a wake-up */
	__u32 rate;      /* keep 1 packet in rate (1 = all) */
	__u32 snaplen;   /* bytes of each packet to copy (clamped to XT_SAMP_MAX_SNAP) */
	__u32 mode;      /* XT_SAMP_MODE_* */
	__u32 drop;      /* bench only: XDP_DROP after sampling instead of XDP_PASS */
	__u32 kfilter;   /* 1: run the classic BPF filter in map samp_filter before copying */
	__u32 actions;   /* bit (1 << XDP verdict) per verdict to sample; 0 = every packet */
};

/* A tcpdump filter as libpcap compiles it (classic BPF), for the sampler to run in the kernel. */
struct xt_cbpf_insn {
	__u16 code;
	__u8 jt;
	__u8 jf;
	__u32 k;
};
#define XT_CBPF_MAX 256
struct xt_cbpf_prog {
	__u32 len;
	__u32 pad;
	struct xt_cbpf_insn insns[XT_CBPF_MAX];
};

#define XT_SAMP_MODE_PERF 0
#define XT_SAMP_MODE_RINGBUF 1

#endif
