/* responder_verify.h — --unverified-only: which sources have proven they receive our packets.
 *
 * A source is verified once the host has a TCP connection with it to a DNS port: the handshake
 * needed our SYN-ACK to reach it (its ACK must carry our initial sequence number), which a spoofer
 * never sees. The kernel already knows which connections exist, so the program asks it: a TCP
 * segment to one of our ports is looked up in the socket table (bpf_skc_lookup_tcp) and, when it
 * belongs to a connection past the handshake, its source (aggregated per /v4 and /v6 prefix) goes
 * into the LRU map resp_verified with an expiry. UDP queries from a source found there, unexpired,
 * pass to the server; the others get TC=1 and come back over TCP — which verifies them.
 */
#ifndef XDPTOOL_RESPONDER_VERIFY_H
#define XDPTOOL_RESPONDER_VERIFY_H

#include "responder_maps.h"
#include "responder_select.h"

/* The source of the packet as a verified-map key: family, address with the host bits cleared. */
static __always_inline int xt_resp_verified_key(struct xt_pkt *p, const struct xt_resp_config *cfg, struct xt_resp_source *k)
{
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return -1;
		k->family = 4;
		*(__u32 *)k->addr = ip->saddr & *(const __u32 *)cfg->verified_mask4;
		return 0;
	}
	struct ipv6hdr *ip6 = p->data + p->l3_off;
	if ((void *)(ip6 + 1) > p->data_end)
		return -1;
	k->family = 6;
	const __u32 *a = ip6->saddr.in6_u.u6_addr32, *m = (const __u32 *)cfg->verified_mask6;
	__u32 *o = (__u32 *)k->addr; /* 4-byte aligned: after the family byte and 3 pad bytes */
	o[0] = a[0] & m[0];
	o[1] = a[1] & m[1];
	o[2] = a[2] & m[2];
	o[3] = a[3] & m[3];
	return 0;
}

/* Has this query's source been verified, and not expired? */
static __always_inline int xt_resp_source_verified(struct xt_pkt *p, const struct xt_resp_config *cfg)
{
	struct xt_resp_source k = {};
	if (xt_resp_verified_key(p, cfg, &k))
		return 0;
	__u64 *expires = bpf_map_lookup_elem(&resp_verified, &k);
	return expires && *expires > bpf_ktime_get_ns();
}

/* Socket states past the handshake: the peer has answered our SYN-ACK. LISTEN (the lookup falls
 * back to the listener when no connection matches) and NEW_SYN_RECV (a request socket: the SYN
 * came, the handshake did not complete) prove nothing. */
static __always_inline int xt_resp_state_connected(__u32 state)
{
	return state == BPF_TCP_ESTABLISHED || state == BPF_TCP_FIN_WAIT1 || state == BPF_TCP_FIN_WAIT2 ||
	       state == BPF_TCP_CLOSE_WAIT || state == BPF_TCP_LAST_ACK || state == BPF_TCP_CLOSING ||
	       state == BPF_TCP_TIME_WAIT;
}

/* A TCP segment to one of our ports on one of our addresses: if it belongs to a connection, its
 * source is verified (again: the expiry moves on). Always XDP_PASS: the segment is the stack's.
 * Not the query itself but any segment after the handshake verifies: the query may be seen here
 * before the stack has turned the handshake's last ACK into a connection (both can sit in one
 * NAPI batch); the client's next segment (its ACK of the answer, its FIN) then finds it. */
static __always_inline int xt_resp_tcp_verify(struct xdp_md *ctx, struct xt_pkt *p, const struct xt_resp_config *cfg)
{
	if (p->truncated || p->vlans > 1 || p->fragment || !p->l4_off)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	struct tcphdr *th = p->data + p->l4_off;
	if ((void *)(th + 1) > p->data_end)
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	/* An ACK that is not a SYN or RST: only those follow a completed handshake. */
	if (!th->ack || th->syn || th->rst || !xt_resp_port_ok(cfg, bpf_ntohs(th->dest)))
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	if (!xt_resp_dest_ours(p, cfg))
		return xt_resp_verdict(XT_RESP_TRANSIT, XDP_PASS);

	/* The tuple as the packet carries it (source = the client); both lookups in the namespace of
	 * the receiving device, where the DNS server listens. */
	struct bpf_sock_tuple t = {};
	__u32 tlen;
	if (p->l3_proto == ETH_P_IP) {
		struct iphdr *ip = p->data + p->l3_off;
		if ((void *)(ip + 1) > p->data_end)
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
		t.ipv4.saddr = ip->saddr;
		t.ipv4.daddr = ip->daddr;
		t.ipv4.sport = th->source;
		t.ipv4.dport = th->dest;
		tlen = sizeof(t.ipv4);
	} else {
		struct ipv6hdr *ip6 = p->data + p->l3_off;
		if ((void *)(ip6 + 1) > p->data_end)
			return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
		__builtin_memcpy(t.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6->daddr, 16);
		t.ipv6.sport = th->source;
		t.ipv6.dport = th->dest;
		tlen = sizeof(t.ipv6);
	}
	struct bpf_sock *sk = bpf_skc_lookup_tcp(ctx, &t, tlen, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	int connected = xt_resp_state_connected(sk->state);
	bpf_sk_release(sk);
	if (!connected)
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);

	struct xt_resp_source k = {};
	if (xt_resp_verified_key(p, cfg, &k))
		return xt_resp_verdict(XT_RESP_MALFORMED, XDP_PASS);
	__u64 now = bpf_ktime_get_ns();
	__u64 expires = now + cfg->verified_ttl_ns;
	__u64 *v = bpf_map_lookup_elem(&resp_verified, &k);
	if (v && *v > now) {
		*v = expires; /* a racing CPU may write its own, equally fresh expiry: either is right */
		return xt_resp_verdict(XT_RESP_NOT_DNS, XDP_PASS);
	}
	bpf_map_update_elem(&resp_verified, &k, &expires, BPF_ANY);
	return xt_resp_verdict(XT_RESP_NEWLY_VERIFIED, XDP_PASS);
}

#endif
