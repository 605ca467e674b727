// The frames of exercise 8: packets for 198.18.1.0/24 forwarded with their TTL decremented; the
// rest (other destinations, TTL 1, IPv6) passed to the stack unchanged.
import { buildFrame, csumAdd, csumFold, type Exercise } from "../lib.ts";

const to = (dst: string, ttl = 64) => buildFrame({ src: "198.18.0.1", dst, dport: 53, ttl });

/** What a router makes of it, built independently: TTL - 1, IP checksum summed from scratch. */
function forwarded(f: Uint8Array): Uint8Array {
  const r = Uint8Array.from(f);
  r[22]--;
  r[24] = r[25] = 0;
  const c = csumFold(csumAdd(0, r.subarray(14, 34)));
  r[24] = c >> 8;
  r[25] = c & 255;
  return r;
}

export default {
  source: "forward.bpf.c",
  read: "docs/08-run-and-exercises.md (XDP_REDIRECT and devmaps), docs/07-xdp-tx.md (rewriting in place, checksums)",
  hint: "IPv4 for 198.18.1.0/24 with a TTL above 1: TTL - 1, checksum updated, XDP_REDIRECT through tx_port; everything else XDP_PASS unchanged.",
  frames: [
    { what: "UDP to 198.18.1.5, TTL 64", frame: to("198.18.1.5"), verdict: "REDIRECT", out: forwarded(to("198.18.1.5")), hint: "forwarded packets leave with TTL 63 and a header checksum that is right for it (the check sums the header from scratch)." },
    { what: "UDP to 198.18.2.5 (not routed here)", frame: to("198.18.2.5"), verdict: "PASS" },
    { what: "UDP to 198.18.1.200, TTL 255", frame: to("198.18.1.200", 255), verdict: "REDIRECT", out: forwarded(to("198.18.1.200", 255)) },
    { what: "UDP to 198.18.1.9 with TTL 1", frame: to("198.18.1.9", 1), verdict: "PASS", hint: "a TTL of 1 would reach 0: pass it to the stack, which answers with ICMP time exceeded." },
    { what: "IPv6 UDP", frame: buildFrame({ src: "2001:db8::1", dst: "2001:db8::2" }), verdict: "PASS" },
  ],
  maps: [{ name: "tx_port", seed: [{ key: 0, value: 1 }] }],
} satisfies Exercise;
