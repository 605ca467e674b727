/* responder_data.h — what the DNS TC responder (responder.h) and src/responder/maps.ts share.
 *
 * Plain fixed-width types only; test/responder.test.ts compiles this header and compares sizes and
 * offsets with the TypeScript side. All configuration lives in maps, so `xdptool responder enable`
 * changes it live without re-attaching the program.
 */
#ifndef XDPTOOL_RESPONDER_DATA_H
#define XDPTOOL_RESPONDER_DATA_H

#define XT_RESP_MAX_PORTS 8

/* Selection modes; they combine (all enabled ones must agree before a query is answered). */
#define XT_RESP_F_QNAME 1 /* only names under a suffix in resp_name_table */
#define XT_RESP_F_FROM 2  /* only sources inside a prefix in resp_from4 / resp_from6 */
#define XT_RESP_F_OVER 4  /* only sources above `rate` q/s; of those every `slip`th gets TC, the rest drop */
#define XT_RESP_F_ADDRESS 8 /* only destinations in resp_addrs (--address), on top of resp_local */
#define XT_RESP_F_UNVERIFIED 16 /* only sources not in resp_verified (--unverified-only): responder_verify.h */

/* The one entry of the array map resp_config. All zero (before enable writes it) = answer nothing. */
struct xt_resp_config {
	__u32 flags;
	__u32 rate;       /* queries per second per aggregated source (XT_RESP_F_OVER) */
	__u32 slip;       /* ≥ 1: every slip-th over-limit query gets TC=1, the others are dropped */
	__u8 v4_prefix;   /* sources aggregated per /v4_prefix for rate limiting (default 24) */
	__u8 v6_prefix;   /* … and per /v6_prefix for IPv6 (default 56) */
	__u16 nports;     /* how many of ports[] are used; 0 = responder inactive */
	__u16 ports[XT_RESP_MAX_PORTS]; /* UDP destination ports, host order */
	__u64 hash_mul;   /* odd multiplier of the qname suffix hash, random per enable */
	__u8 mac[6];      /* the interface's own MAC: queries to any other unicast MAC are not ours */
	/* The shortest and longest wire length of the listed --qname suffixes: a suffix of another
	 * length is not looked up (responder_name.h). 0 and 0 (a config written before them): every
	 * suffix is looked up. */
	__u8 qname_min;
	__u8 qname_max;
	__u64 verified_ttl_ns;    /* XT_RESP_F_UNVERIFIED: how long a verified source stays verified */
	/* … sources verified per prefix (default /32 and /64), as netmasks user space computes: the
	 * program ANDs words, where a per-bit loop on a prefix length read from the map would branch
	 * at every byte and multiply the verifier's paths. */
	__u8 verified_mask6[16];
	__u8 verified_mask4[4];
	/* The half of resp_name_table the listed names are in: 0 or XT_RESP_NAME_SLOTS. User space
	 * fills the other half, then switches with this and hash_mul in one write (was padding: a
	 * config written before it reads 0, the first half). */
	__u32 name_base;
};

/* The host's local addresses as a short list (resp_local_list, one entry): most hosts have a few,
 * and comparing a few words in a line the program already touches costs less than a trie walk.
 * `complete` bit 0 (IPv4) / bit 1 (IPv6): the list holds every local address of that family, so a
 * miss needs no LPM lookup; otherwise (more addresses, or a local prefix such as an AnyIP route
 * on lo) the tries resp_local4/6 are asked after the list. 127.0.0.0/8 and ::1 are left out:
 * Linux drops them as martians when they arrive from the wire. */
#define XT_RESP_LIST4 8
#define XT_RESP_LIST6 4
struct xt_resp_local_list {
	__u32 n4;        /* addresses used in a4 */
	__u32 n6;        /* … in a6 */
	__u32 complete;
	__u32 a4[XT_RESP_LIST4];   /* network order */
	__u8 a6[XT_RESP_LIST6][16];
};

/* A slot of resp_name_table: a lowercased wire-format suffix ("\7example\4test", no root byte) by
 * length and hash: its bytes as little-endian 64-bit words (the last zero-padded), h = (h ^ word)
 * · mul for each, from h = 0 (responder_name.h). len 0: an empty slot (a listed suffix is at least
 * 2 bytes). (Layout 5 kept a byte-at-a-time hash in resp_name_slots, and layouts before it the
 * same keys in a hash map, resp_names: an upgrade hashes the names anew, from resp_qnames.) */
struct xt_resp_name {
	__u32 len;
	__u32 pad;   /* always 0 */
	__u64 hash;
};

/* resp_name_table is open addressing in two halves of XT_RESP_NAME_SLOTS slots (one in use, one
 * being filled): a suffix's home slot is the top XT_RESP_NAME_BITS bits of its hash, and it is
 * stored at most XT_RESP_NAME_PROBES - 1 slots after it (wrapping inside the half); an empty slot
 * ends the search. 4096 names fill a half to a quarter at most. */
#define XT_RESP_NAME_BITS 14
#define XT_RESP_NAME_SLOTS (1 << XT_RESP_NAME_BITS)
#define XT_RESP_NAME_PROBES 32

/* Key of resp_qnames: a --qname as text, for reading the selection back (the program never looks). */
#define XT_RESP_QNAME_MAX 256
struct xt_resp_qname {
	char name[XT_RESP_QNAME_MAX];
};

/* Keys of the LPM tries resp_from4 / resp_from6: the kernel's LPM key layout, a __u32 prefix length
 * followed by the address bytes in network order. */
struct xt_resp_prefix4 {
	__u32 prefixlen;
	__u8 addr[4];
};
struct xt_resp_prefix6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Keys of resp_local4 / resp_local6 (LPM tries): the addresses the host accepts as its own, the
 * kernel's RTN_LOCAL routes in every table (interface addresses, VIPs on lo, AnyIP prefixes), kept
 * current by `xdptool responder watch` from netlink. resp_addrs (hash, --address) takes a full-length
 * key of the same layout as struct xt_resp_source. */

/* Rate state of one aggregated source (LRU hash resp_rate; key: family byte + 16 address bytes,
 * zero-padded, host bits cleared). A token bucket holding up to one second of queries. */
struct xt_resp_source {
	__u8 family; /* 4 or 6 */
	__u8 pad[3]; /* zeroed with the key (`= {}`): part of the hashed bytes */
	__u8 addr[16];
};
struct xt_resp_bucket {
	__u64 stamp_ns;   /* last refill */
	__u64 tokens;     /* in units of 1/1e9 query */
	__u64 over;       /* over-limit queries seen (drives slip) */
};

/* Per-CPU array resp_stats, one __u64 per reason. */
enum xt_resp_stat {
	XT_RESP_ANSWERED = 0,   /* rewritten into a TC=1 reply, XDP_TX */
	XT_RESP_SLIP_DROPPED,   /* over the rate limit and not the slip-th: XDP_DROP */
	XT_RESP_NOT_DNS,        /* not UDP to a configured port over plain IPv4/IPv6: XDP_PASS */
	XT_RESP_NOT_QUERY,      /* DNS, but not a plain query (QR=1, opcode, counts): XDP_PASS */
	XT_RESP_MALFORMED,      /* lengths or question name do not parse, IPv6 UDP checksum 0: XDP_PASS */
	XT_RESP_UNDER_RATE,     /* source under the --over threshold: XDP_PASS */
	XT_RESP_NO_MATCH,       /* name or source outside the selection: XDP_PASS */
	XT_RESP_TRANSIT,        /* destination IP not local to this host (or not in --address): XDP_PASS */
	XT_RESP_OTHER_MAC,      /* unicast to another MAC (promiscuous mode, a mirror port): XDP_PASS */
	XT_RESP_REFLECT_PORT,   /* from UDP source port 0, 7, 13, 17, 19 or 37: XDP_DROP */
	XT_RESP_MARTIAN_SOURCE, /* from loopback, ::/96, ::ffff:0:0/96 or one of the host's own: XDP_DROP */
	XT_RESP_ANSWERED_UNVERIFIED, /* of ANSWERED, those --unverified-only answered (counted in both) */
	XT_RESP_PASSED_VERIFIED,     /* a query from a verified source (--unverified-only): XDP_PASS */
	XT_RESP_NEWLY_VERIFIED,      /* a TCP segment of a connection verified its source anew: XDP_PASS */
	XT_RESP_STAT_MAX,
};

#endif
