import { defineCommand, intArg, jsonArg } from "../../cli/define.ts";
import { OpError, UsageError } from "../../errors.ts";
import { printJson } from "../../table.ts";
import { labArgs, labName } from "./_shared.ts";
import { MAX_SOURCES, readSourceList, sourcePrefix, type SourceList } from "../../net/sources.ts";

/** --src-random / --src-from: the list, and how to name it in the output. */
function randomSources(args: { src?: string; "src-random"?: string; "src-from"?: string }): { list: SourceList; what: string } | undefined {
  const prefix = args["src-random"], file = args["src-from"];
  if (prefix === undefined && file === undefined) return undefined;
  if (prefix !== undefined && file !== undefined) throw new UsageError("--src-random and --src-from are alternatives: give one");
  const flag = prefix !== undefined ? "--src-random" : "--src-from";
  if (args.src !== undefined) throw new UsageError(`${flag} gives each frame its own source: leave out --src ${args.src}`);
  if (prefix !== undefined) return { list: sourcePrefix(prefix), what: `random in ${prefix}` };
  const list = readSourceList(file!);
  return { list, what: `${list.n} entries of ${file}` };
}

export default defineCommand({
  meta: {
    name: "traffic",
    description: `Send N frames across the lab at full speed (BPF_PROG_TEST_RUN LIVE_FRAMES + XDP_TX).

  The receiving end must run an XDP program (veth drops XDP_TX frames otherwise).

  Examples:
    xdptool lab traffic --count 1000000                       # UDP 198.18.0.1:1024 → 198.18.0.2:9
    xdptool lab traffic --proto tcp --dport 22 --src 198.18.7.7
    xdptool lab traffic --src 2001:db8::1 --dst 2001:db8::2 --proto icmp
    xdptool lab traffic --dns example.test --count 10         # DNS queries to port 53
    xdptool lab traffic --vlan 100 --size 128
    xdptool lab traffic --src-random 198.18.0.0/15 --count 1000000   # a new source per frame
    xdptool lab traffic --src-from rules.txt      # sources drawn from a list (a blacklist rule file works)

  With --src-random or --src-from each frame (IPv4 only) gets its own source, drawn at random per frame
  in the kernel; the IPv4 header checksum and the UDP/TCP checksum are updated to match (RFC 1624).`,
  },
  args: {
    count: { type: "string", description: "Frames to send", default: "1000" },
    proto: { type: "string", description: "udp, tcp, icmp or none", default: "udp" },
    src: { type: "string", description: "Source IP (default: the sending end's IPv4)" },
    "src-random": { type: "string", description: "A new IPv4 source per frame, uniform in this prefix (e.g. 198.18.0.0/15)" },
    "src-from": { type: "string", description: `A new IPv4 source per frame, drawn from this file: the first word of each line if it is an IPv4 address or prefix (a prefix gives a random address in it); other lines are skipped; at most ${MAX_SOURCES} entries` },
    dst: { type: "string", description: "Destination IP (default: the receiving end's IPv4, or IPv6 if --src is IPv6)" },
    sport: { type: "string", description: "Source port", default: "1024" },
    dport: { type: "string", description: "Destination port (53 with --dns)" },
    size: { type: "string", description: "Minimum frame size in bytes without FCS (payload zero-padded)", default: "60" },
    vlan: { type: "string", description: "VLAN ids to tag with, outermost first: 100 or 10,20" },
    "src-mac": { type: "string", description: "Source MAC (default: the sending end's)" },
    "dst-mac": { type: "string", description: "Destination MAC (default: the receiving end's)" },
    dns: { type: "string", description: "Make each frame a DNS query (A, RD) for this name" },
    sender: { type: "string", description: "Which end sends: gen or dut", default: "gen" },
    from: { type: "string", description: "Old name of --sender (--from takes prefixes in responder enable)", hidden: true },
    batch: { type: "string", description: "LIVE_FRAMES batch size (≤ 64 keeps pace with the receiver; frames its ring refuses are sent again)", default: "64" },
    ...labArgs,
    ...jsonArg,
  },
  async run({ args }) {
    const count = intArg("count", args.count, 1, 2 ** 40);
    const batch = intArg("batch", args.batch, 1, 256);
    if (!["udp", "tcp", "icmp", "none"].includes(args.proto)) throw new UsageError(`--proto must be udp, tcp, icmp or none, not "${args.proto}"`);
    const sender = args.from ?? args.sender;
    if (sender !== "gen" && sender !== "dut") throw new UsageError(`--sender must be gen or dut, not "${sender}"`);
    const { labConfig, labIsUp } = await import("../../lab/setup.ts");
    const lab = labConfig(labName(args));
    const [tx, rx] = sender === "gen" ? [lab.gen, lab.dut] : [lab.dut, lab.gen];
    const { buildFrame, dnsQuery } = await import("../../net/packet.ts");
    const sources = randomSources(args);
    const src = args.src ?? tx.ipv4;
    const v6 = src.includes(":");
    if (sources && args.dst?.includes(":")) throw new UsageError(`random sources are IPv4: --dst ${args.dst} is IPv6`);
    const frame = buildFrame({
      src, dst: args.dst ?? (v6 ? rx.ipv6 : rx.ipv4), l4: args.dns ? "udp" : (args.proto as "udp"),
      sport: intArg("sport", args.sport, 0, 65535), dport: intArg("dport", args.dport ?? (args.dns ? "53" : "9"), 0, 65535),
      srcMac: args["src-mac"] ?? tx.mac, dstMac: args["dst-mac"] ?? rx.mac,
      vlans: args.vlan ? args.vlan.split(",").map((v) => intArg("vlan", v, 0, 4095)) : [],
      payload: args.dns ? dnsQuery(args.dns) : undefined, frameSize: intArg("size", args.size, 42, 9000),
    });
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool lab traffic");
    if (!labIsUp(lab)) throw new UsageError(`lab ${lab.name} is not up (xdptool lab up)`);
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { xdpQuery } = await import("../../ffi/xdp.ts");
    const rxIf = resolveIface(`${rx.ns}/${rx.ifname}`);
    const { ifMtu } = await import("../../ffi/netdev.ts");
    // veth drops a redirected frame over the receiver's MTU without counting it anywhere.
    const mtu = ifMtu(rx.ifname), vlans = args.vlan ? args.vlan.split(",").length : 0;
    if (frame.length > mtu + 14 + 4 * vlans) {
      throw new UsageError(`frames of ${frame.length} bytes do not fit ${rx.ifname}'s MTU ${mtu} (${mtu + 14 + 4 * vlans}-byte frames at most): veth would drop them unseen`);
    }
    if (!xdpQuery(rxIf.ifindex).progId) {
      throw new OpError(`${rx.ifname} runs no XDP program, and veth drops XDP_TX frames sent to such an end: load one first (xdptool load ${rx.ifname} pass)`);
    }
    const txIf = resolveIface(`${tx.ns}/${tx.ifname}`);
    const { deliverFrames } = await import("../../lab/traffic.ts");
    const r = deliverFrames(tx.ifname, txIf.ifindex, frame, count, batch, sources?.list);
    if (r.refused > 0) {
      throw new OpError(`${rx.ifname} refused ${r.refused} of ${count} frames (veth counts them in ${tx.ifname}'s tx_queue_0_xdp_xmit_errors): frames over its MTU, or its end went down`);
    }
    if (args.json) return printJson({ from: tx.ifname, to: rx.ifname, frameBytes: frame.length, ...(sources && { sources: sources.what }), ...r });
    console.log(`sent ${r.frames} frames of ${frame.length} bytes ${tx.ifname} → ${rx.ifname}${sources ? ` (sources: ${sources.what})` : ""} in ${r.seconds.toFixed(3)} s: ${(r.pps / 1e6).toFixed(2)} Mpps${r.resent ? ` (${r.resent} sent again: ${rx.ifname}'s receive ring was full)` : ""}`);
  },
});
