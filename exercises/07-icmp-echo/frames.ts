// The frames of exercise 7: echo requests (answered in place), and what is not one (passed as it is).
import { buildFrame, csumAdd, csumFold, withIpOptions, type Exercise } from "../lib.ts";

const ping = (payload: string) => buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "icmp", payload: Buffer.from(payload) });

/** The reply a correct responder makes of request `q`, built independently: addresses swapped,
 *  type 0, the ICMP checksum summed from scratch. */
function reply(q: Uint8Array): Uint8Array {
  const r = Uint8Array.from(q);
  r.set(q.subarray(6, 12), 0);
  r.set(q.subarray(0, 6), 6);
  r.set(q.subarray(30, 34), 26);
  r.set(q.subarray(26, 30), 30);
  r[34] = 0;
  r[36] = r[37] = 0;
  const c = csumFold(csumAdd(0, r.subarray(34)));
  r[36] = c >> 8;
  r[37] = c & 255;
  return r;
}

const hello = ping("hello from the exercise");

export default {
  source: "echo.bpf.c",
  read: "docs/07-xdp-tx.md (rewriting headers in place; checksums; XDP_TX)",
  hint: "an IPv4 echo request (type 8 code 0) comes back as the reply: MAC and IP addresses swapped, type 0, the ICMP checksum right; XDP_TX. Everything else passes unchanged.",
  frames: [
    { what: "ICMP echo request with a 23-byte payload", frame: hello, verdict: "TX", out: reply(hello), hint: "the reply must be the request with both address pairs swapped, type 0 and a correct ICMP checksum (an odd length is padded with a zero byte for the sum)." },
    { what: "ICMP echo request with a 1-byte payload", frame: ping("!"), verdict: "TX", out: reply(ping("!")) },
    { what: "an ICMP echo reply (not a request)", frame: reply(hello), verdict: "PASS", hint: "only echo requests (type 8) are answered: a reply answered again would ping-pong forever." },
    { what: "UDP to port 7", frame: buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", dport: 7 }), verdict: "PASS" },
    { what: "an echo request whose IP header has options (not answered here)", frame: withIpOptions(hello), verdict: "PASS", hint: "with IP options the ICMP header is not right after struct iphdr: this responder answers only ihl == 5 and passes the rest." },
    { what: "an echo request cut after 4 bytes of its ICMP header", frame: hello.subarray(0, 14 + 20 + 4), verdict: "PASS" },
    { what: "an ICMPv6 echo request (IPv6 is not this exercise's)", frame: buildFrame({ src: "2001:db8::1", dst: "2001:db8::2", l4: "icmp" }), verdict: "PASS" },
  ],
  live: {
    says: "ping from the lab's generator end answered by XDP_TX (the kernel's xdp_tx counter), not by the stack",
    judge(lab) {
      const before = lab.counters().rx_queue_0_xdp_tx ?? 0;
      const ping = lab.exec("gen", ["ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.0.2"]);
      const sent = (lab.counters().rx_queue_0_xdp_tx ?? 0) - before;
      if (ping.code !== 0) return `ping got no answer: ${ping.out.trim().split("\n").pop()}`;
      return sent >= 3 ? null : `3 replies reached ping but ${lab.dut} counted ${sent} XDP_TX: the stack answered them`;
    },
  },
} satisfies Exercise;
