/* tx.h — what the traffic generator (tx.bpf.c) and src/lab/traffic.ts share: the frame template and
 * the source settings. Data only; test/traffic.test.ts checks the TypeScript offsets against it. */
#ifndef XDPTOOL_TX_H
#define XDPTOOL_TX_H

#include <linux/types.h>

#define TX_TEMPLATE_MAX 4096 /* a power of two; LIVE_FRAMES frames fit in one page anyway */

struct tx_template {
	__u32 len;          /* 0 = send the frame as the kernel gave it */
	__u16 ip_off;       /* IPv4 header offset (after Ethernet and VLAN tags), for a new source */
	__u16 l4_csum_off;  /* UDP/TCP checksum offset, 0 = nothing to update */
	/* ~checksum + ~old source words, unfolded (RFC 1624 eqn. 3): adding the new source's two
	 * words and folding gives the new checksum without reading the header. */
	__u32 ip_csum_base;
	__u32 l4_csum_base;
	__u8 data[TX_TEMPLATE_MAX];
};

/* Where tx_src takes each frame's IPv4 source from (.rodata: fixed at load, so the verifier drops
 * the code of the other mode). */
#define TX_SRC_PREFIX 1 /* addr | (random & hostmask) */
#define TX_SRC_LIST 2   /* a random entry of tx_sources, random host bits if it is a prefix */
#define TX_SRC_CYCLE 3  /* tx_sources in order, round and round (a list shuffled beforehand): no
			 * random read of a big list per frame, which costs the generator a cache miss */

struct tx_src_cfg {
	__u32 mode;
	__u32 addr;     /* TX_SRC_PREFIX: network address, host byte order */
	__u32 hostmask; /* TX_SRC_PREFIX: the bits drawn at random */
	__u32 count;    /* TX_SRC_LIST, TX_SRC_CYCLE: entries in tx_sources */
};

/* An entry of tx_sources: an address (hostmask 0) or a prefix. Host byte order. */
struct tx_src {
	__u32 addr;
	__u32 hostmask;
};

#endif
