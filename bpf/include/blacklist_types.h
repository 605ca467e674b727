/* blacklist_types.h — the blacklist's map layouts, shared with src/blacklist/layout.ts.
 *
 * Data only (fixed-width types and constants); test/blacklist.test.ts compiles this header and
 * checks every size and offset the TypeScript side writes.
 *
 * Model: every rule has an id (its record in bl_recs, handed out in the order rules are added)
 * and exactly ONE place where it matches:
 *  - an IPv4 address rule (any prefix length) is a SLOT of the open-addressing table bl_t4, and
 *    the slot itself holds the rule's state and counters: one cache line per packet under a
 *    flood (docs/A-measurements.md has the measurements). The program names such a rule by its slot
 *    (cfg.slot_base + index); its record only tells user space which slot (BL_RULE_SLOT);
 *  - every other rule (IPv6, MAC, combined address+port, no address) has its state and
 *    counters in its record, reached from its entry in a hash / LPM map, or from bl_l4 under the
 *    `set` of its address entry (set 0 / 1 are the global deny / allow sets: no address).
 * Two generations of everything that matches (bl_t4's two tables, bl_len4 halves, _0/_1 maps, record
 * id ranges) let `import --replace` build a new rule set beside the live one and switch with
 * one write to bl_cfg.gen.
 */
#ifndef XDPTOOL_BLACKLIST_TYPES_H
#define XDPTOOL_BLACKLIST_TYPES_H

/* Tag byte in front of every address key: which direction, and allow vs deny. It is part of
 * the LPM key (prefixlen counts its 8 bits), so one trie holds all four kinds. */
#define BL_TAG_DST 1
#define BL_TAG_ALLOW 2

#define BL_SET_DENY 0  /* rules with no address, deny */
#define BL_SET_ALLOW 1 /* rules with no address, allow */

/* bl_l4 key dir */
#define BL_L4_PROTO 0 /* protocol only */
#define BL_L4_SPORT 1
#define BL_L4_DPORT 2
/* Summaries, for packets whose ports or protocol cannot be read (xt_pkt.l4_unknown): user space
 * keeps one per deny set, pointing at the set's lowest rule id of that kind, so such a packet is
 * dropped under a rule that could apply, in one lookup (undecidable means drop, never pass). */
#define BL_L4_ANYPORT 3 /* (set, proto): some port rule of this protocol */
#define BL_L4_ANY 4     /* (set, 0): some rule with a port or protocol */

/* bl_rec.flags */
#define BL_RULE_ACTIVE 1
#define BL_RULE_ALLOW 2
#define BL_RULE_SLOT 4 /* an IPv4 rule: matched and counted in bl_t4 slot `last` (user space only) */

/* bl_slot4.tag: BL_TAG_* plus this bit, so that no used slot is all zeros (an empty slot is). */
#define BL_TAG_USED 0x80
/* bl_slot4.flags */
#define BL_SLOT_RULE 1 /* the slot's own plain rule is live */
#define BL_SLOT_TTL 2  /* ... and has an expiry time in bl_exp4 */

/* bl_t4: the program looks at most this many slots from a key's home slot; user space never
 * places a key further (a rule set that would need it is refused: the table is too full). */
#define BL_T4_PROBES 32
#define BL_T4_WINDOW 32 /* slots (1 KiB, aligned: inside one page) the /24-/31 prefixes of one /24 share */
/* bl_host4: two bits per /24 and generation (what the /24 holds, of any kind), then one stamp
 * per generation (blacklist_maps.h). */
#define BL_HOST4_WORDS (1 << 19) /* u64 words per generation: 2^24 × 2 bits, 4 MiB */
#define BL_H24_HOST 1   /* a /32 */
#define BL_H24_PIECES 2 /* a /25-/31 prefix */
#define BL_HOST4_STAMP(t4_used, next_id) ((((__u64)(t4_used) | 0x80000000u) << 32) | (next_id))

/* bl_cfg.flags[gen]: what a generation holds, so the fast path skips empty stages. */
#define BL_HAS_MAC 1
#define BL_HAS_GLOBAL_DENY 2
#define BL_HAS_ALLOW 4
#define BL_HAS_V4 8          /* bl_t4 has entries */
#define BL_HAS_V6_EXACT 32
#define BL_HAS_V6_PREFIX 64
#define BL_HAS_DST 128      /* some address entry matches destinations */
#define BL_HAS_V4_FULL 256  /* bl_t4 has /32 entries: probed before bl_len4 is read */
#define BL_T4_FLAT 512      /* this generation's table spreads every prefix over the whole table: a
                             * /24 held more /24-/31 prefixes than its window takes (bl_hash4) */
#define BL_TTL_FREE 1024    /* user space only: no rule of this generation has a TTL, so a gc has
                             * nothing to look for (unset: look; a generation written by an
                             * older xdptool never has it) */
#define BL_V4_HOSTS24 2048  /* program only, never stored: bl_host4 vouches for this generation
                             * (its stamp matches bl_cfg), so its bits may skip probes */

/* How many covering prefixes one IPv6 lookup may climb through when a longer one did not match
 * (its rule expired, or its combined rules named another port): every length the trie can hold
 * (/0 to /127: full-length addresses live in the exact hash), so the climb always reaches the
 * shortest covering prefix and longest-prefix semantics are exact. */
#define BL_LPM_DEPTH_V6 128

/* LPM trie keys: the kernel requires a __u32 prefixlen first (struct bpf_lpm_trie_key), then
 * the bytes it compares bit by bit, most significant first. The tag comes first so that a
 * prefix never spans two kinds of entries. Padding is explicit in every key: user space writes
 * the same bytes, and a hash compares all of its key's bytes. */
struct bl_v6_key {
	__u32 prefixlen; /* 8 (tag) + prefix length */
	__u8 tag;
	__u8 addr[16];
	__u8 pad[3];
};

/* Full-length IPv6 addresses (/128: the bulk of big IPv6 lists) live in a hash, not the trie:
 * one hash lookup instead of a walk down ~20 trie nodes. */
struct bl_x6_key {
	__u8 tag;
	__u8 addr[16];
	__u8 pad[3];
};

struct bl_mac_key {
	__u8 tag;
	__u8 mac[6];
	__u8 pad;
};

/* Value of a prefix or MAC entry. */
struct bl_entry {
	__u32 rule; /* plain rule on exactly this address (0 = none) */
	__u32 set;  /* bl_l4 set of the combined rules on this address (0 = none) */
	__u32 plen; /* the entry's own LPM prefixlen, to continue with shorter prefixes */
	__u32 pad;
};

struct bl_l4_key {
	__u32 set;
	__u8 proto; /* IPPROTO_* */
	__u8 dir;   /* BL_L4_* */
	__u16 port; /* host order; 0 for BL_L4_PROTO */
};

/* One IPv4 entry: an address prefix of one kind (tag), and what applies to it. 32 bytes, two
 * to a cache line: the key, the rule's state and its counters are read and written together.
 * The first 8 bytes are compared as one word; user space writes them last. */
struct bl_slot4 {
	__u8 addr[4];   /* network order, host bits zero */
	__u8 len;       /* prefix length 0..32 */
	__u8 tag;       /* BL_TAG_* | BL_TAG_USED; 0 = empty slot */
	__u16 flags;    /* BL_SLOT_*; 0 with no set: a deleted entry (probing goes on past it) */
	__u32 set;      /* bl_l4 set of the combined rules on this prefix (0 = none) */
	__u32 last;     /* last hit: CLOCK_MONOTONIC_COARSE >> BL_LAST_SHIFT */
	__u64 packets;  /* shared by all CPUs: atomic adds (docs/05: why not per-CPU) */
	__u64 bytes;
};

/* bl_recs[id]: every rule that is not an IPv4 table slot. Deleting a rule clears it first, so a
 * rule stops matching before its entries are removed. User space zeroes the counters whenever it
 * gives an id to a rule. */
struct bl_rec {
	__u64 expires;  /* CLOCK_MONOTONIC_COARSE ns; 0 = never */
	__u32 flags;    /* BL_RULE_* */
	__u32 last;     /* last hit: CLOCK_MONOTONIC_COARSE >> BL_LAST_SHIFT; with BL_RULE_SLOT the slot */
	__u64 packets;
	__u64 bytes;
};

/* Last-hit times in units of 2^24 ns (16.8 ms): a u32 lasts 2.2 years of uptime. */
#define BL_LAST_SHIFT 24

struct bl_cfg {
	__u32 gen;        /* live generation of the match maps: 0 or 1 */
	__u32 next_set;   /* user space: next free set id */
	__u32 half;       /* record ids of gen g are [g*half + (g==0), (g+1)*half) */
	__u32 flags[2];   /* BL_HAS_* per generation */
	__u32 next_id[2]; /* user space: next free record id per generation */
	__u32 t4_size;    /* slots of each generation's table in bl_t4 (a power of two) */
	__u32 slot_base;  /* handle of gen 0's slot 0 (= bl_recs' max_entries: never a record id);
	                   * slot i of gen g is slot_base + g * t4_size + i */
	__u32 t4_used[2]; /* user space: slots in use per generation (deleted ones included) */
};

#endif
