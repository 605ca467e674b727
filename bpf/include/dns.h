/* dns.h — the DNS wire format the responder reads (RFC 1035 §4.1).
 *
 * A message is a 12-byte header, then the question: QNAME as length-prefixed labels ending in a
 * zero byte ("\7example\4test\0"), then QTYPE and QCLASS (2 bytes each). The flags are two single
 * bytes with masks rather than C bitfields, whose bit order depends on the compiler and byte order.
 */
#ifndef XDPTOOL_DNS_H
#define XDPTOOL_DNS_H

#include <linux/types.h>

struct xt_dnshdr {
	__be16 id;
	__u8 flags1;   /* QR(0x80) OPCODE(0x78) AA(0x04) TC(0x02) RD(0x01) */
	__u8 flags2;   /* RA(0x80) Z(0x40) AD(0x20) CD(0x10) RCODE(0x0f) */
	__be16 qdcount;
	__be16 ancount;
	__be16 nscount;
	__be16 arcount;
};

#define XT_DNS_QR 0x80
#define XT_DNS_OPCODE 0x78
#define XT_DNS_TC 0x02
#define XT_DNS_RD 0x01
#define XT_DNS_RA 0x80
#define XT_DNS_CD 0x10

/* RFC 1035 §2.3.4. A label's length byte uses 6 bits (its top two bits say what kind of byte it
 * is: 11 = compression pointer), hence 63. The name limit also bounds the responder's loops. */
#define XT_DNS_NAME_MAX 255 /* wire length of a name, root byte included */
#define XT_DNS_LABEL_MAX 63

#endif
