/* blacklist_types.h — the blacklist's map layouts, shared with src/blacklist/layout.ts.
 *
 * Data only (fixed-width types and constants); test/blacklist.test.ts compiles this header and
 * checks every size and offset the TypeScript side writes.
 *
 * Model: every rule has an id (index into bl_rules / bl_hits) and exactly ONE map entry:
 *  - a plain address rule is the `rule` slot of a prefix/MAC entry;
 *  - a rule that also names a protocol or port lives in bl_l4 under the entry's `set` id
 *    (set 0 / 1 are the global deny / allow sets: rules that name no address);
 * so a packet costs one hash lookup (full-length address) and/or LPM lookup per address plus,
 * only for entries that carry combined rules, up to three hash lookups — never a scan.
 * Two generations (suffix _0/_1) of the match maps let `import --replace` build a new rule set
 * beside the live one and switch with one write to bl_cfg.gen.
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

/* bl_rule.flags */
#define BL_RULE_ACTIVE 1
#define BL_RULE_ALLOW 2

/* bl_cfg.flags[gen]: what a generation holds, so the fast path skips empty stages. */
#define BL_HAS_MAC 1
#define BL_HAS_GLOBAL_DENY 2
#define BL_HAS_ALLOW 4
#define BL_HAS_V4_EXACT 8   /* bl_x4 has entries */
#define BL_HAS_V4_PREFIX 16 /* bl_v4 has entries */
#define BL_HAS_V6_EXACT 32
#define BL_HAS_V6_PREFIX 64
#define BL_HAS_DST 128      /* some address entry matches destinations */

/* How many covering prefixes one lookup may climb through when a longer one did not match
 * (its rule expired, or its combined rules named another port): every length a trie can hold
 * (/0 to /31, /0 to /127: full-length addresses live in the exact hashes), so the climb always
 * reaches the shortest covering prefix and longest-prefix semantics are exact. */
#define BL_LPM_DEPTH_V4 32
#define BL_LPM_DEPTH_V6 128

/* LPM trie keys: the kernel requires a __u32 prefixlen first (struct bpf_lpm_trie_key), then
 * the bytes it compares bit by bit, most significant first. The tag comes first so that a
 * prefix never spans two kinds of entries. Padding is explicit in every key: user space writes
 * the same bytes, and a hash compares all of its key's bytes. */
struct bl_v4_key {
	__u32 prefixlen; /* 8 (tag) + prefix length */
	__u8 tag;
	__u8 addr[4];
	__u8 pad[3];
};

struct bl_v6_key {
	__u32 prefixlen; /* 8 (tag) + prefix length */
	__u8 tag;
	__u8 addr[16];
	__u8 pad[3];
};

/* Full-length addresses (/32, /128: the bulk of big lists) live in a hash, not the trie: one
 * hash lookup instead of a walk down ~20 trie nodes. */
struct bl_x4_key {
	__u8 tag;
	__u8 addr[4];
	__u8 pad[3];
};

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

/* bl_rules[id]: what the program checks before a match counts (deleting a rule clears it
 * first, so a rule stops matching before its entries are removed). */
struct bl_rule {
	__u64 expires; /* CLOCK_MONOTONIC_COARSE ns; 0 = never */
	__u32 flags;   /* BL_RULE_* */
	__u32 serial;  /* which use of this id; never 0 (see bl_hit) */
};

/* Per-CPU, per rule. A slot whose serial differs from its rule's belongs to an earlier rule
 * with the same id: the program restarts it on the first hit and user space ignores it, so ids
 * are reused without writing a million zeroed counters per CPU on every import. */
struct bl_hit {
	__u64 packets;
	__u64 bytes;
	__u64 last; /* CLOCK_MONOTONIC_COARSE ns of the last hit */
	__u64 serial;
};

struct bl_cfg {
	__u32 gen;        /* live generation of the match maps: 0 or 1 */
	__u32 next_set;   /* user space: next free set id */
	__u32 half;       /* user space: ids of gen g are [g*half + (g==0), (g+1)*half) */
	__u32 flags[2];   /* BL_HAS_* per generation */
	__u32 next_id[2]; /* user space: next free rule id per generation */
	__u32 next_serial; /* user space: next bl_rule.serial */
};

#endif
