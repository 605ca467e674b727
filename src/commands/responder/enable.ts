import { defineCommand, forceArg, interfaceArg, jsonArg, xdpMode, xdpModeArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "enable",
    description: `Answer DNS queries on an interface with TC=1 replies; run again to change the selection live.

  Only queries addressed to this host are answered: to the interface's own MAC, and to an address
  the kernel delivers locally (interface addresses, also ones added later, and VIPs on lo; a
  background \`responder watch\` follows changes). Queries to other hosts (this host routing them,
  a mirror port) pass untouched, counted as TRANSIT or OTHER_MAC. --address narrows it to the
  DNS service's own addresses. IPv6 UDP with checksum 0 is never answered.

  Selections combine: a query is answered only when every given one agrees. Without any, every
  well-formed UDP query to the ports and a local address is answered. Running enable on an interface that already runs
  the responder rewrites its maps in place (no re-attach, counters kept).

  --over N answers only sources (aggregated per /24 IPv4, /56 IPv6) sending more than N q/s; the
  rest pass to the real server. Of an over-limit source's queries every --slip'th gets TC=1 and
  the others are dropped (RRL "slip"; --slip 1 answers them all).

  --unverified-only answers only sources that have not proven they receive our packets, and
  passes the others to the server: a source is verified once it has a TCP connection with this
  host on a --ports port (the program looks each TCP segment up in the kernel's socket table; a
  spoofer never completes the handshake), for --verified-ttl, per /32 IPv4 and /64 IPv6. So a
  client gets TC once, retries over TCP, and is then served over UDP; a spoofed flood only ever
  gets TC. Other selections still apply: --qname/--from narrow what is answered at all, and with
  --over an unverified source under the rate passes too.

  A reply is the query's header and question (RA set from RD), plus an EDNS OPT record when the
  query had one (UDP size 1232, version 0, DO copied, options dropped); an EDNS version other than
  0 gets BADVERS. It is never larger than the query.

  Examples:
    xdptool responder enable xl-dut                                    # port 53, every name
    xdptool responder enable xl-dut --ports 53,5353 --qname example.test,attack.test
    xdptool responder enable xl-dut --from 198.18.64.0/18,2001:db8:40::/48
    xdptool responder enable xl-dut --address 192.0.2.53,2001:db8:53::53  # anycast VIPs on lo
    xdptool responder enable xl-dut --over 100 --slip 3 --v4-prefix 32
    xdptool responder enable xl-dut --unverified-only --verified-ttl 30m`,
  },
  args: {
    ...interfaceArg,
    ports: { type: "string", description: "UDP destination ports, comma-separated (up to 8)", default: "53" },
    qname: { type: "string", description: "Only names at or under these (comma-separated; label-aware, case-insensitive)" },
    from: { type: "string", description: "Only sources in these prefixes (comma-separated, IPv4 or IPv6)" },
    address: { type: "string", description: "Only queries to these addresses of the DNS service (comma-separated; each must also be local)" },
    over: { type: "string", description: "Only sources sending more than N queries/s (per aggregate)" },
    slip: { type: "string", description: "With --over: TC to every Nth over-limit query, drop the rest", default: "2" },
    "v4-prefix": { type: "string", description: "With --over: aggregate IPv4 sources per /N", default: "24" },
    "v6-prefix": { type: "string", description: "With --over: aggregate IPv6 sources per /N", default: "56" },
    "unverified-only": { type: "boolean", description: "Only sources without a TCP connection to this host; verified ones pass to the server" },
    "verified-ttl": { type: "string", description: "With --unverified-only: how long a source stays verified (s, m, h, d; at most 365d)", default: "1h" },
    "verified-v4-prefix": { type: "string", description: "With --unverified-only: verify IPv4 sources per /N", default: "32" },
    "verified-v6-prefix": { type: "string", description: "With --unverified-only: verify IPv6 sources per /N", default: "64" },
    ...xdpModeArg,
    ...forceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const mode = xdpMode(args.mode);
    const { parseEnableArgs, describeConfig } = await import("../../responder/config.ts");
    const { formatPrefix } = await import("../../net/addr.ts");
    const cfg = parseEnableArgs(args); // every usage error before anything is touched
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool responder enable");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { enable } = await import("../../responder/lifecycle.ts");
    const r = enable(resolveIface(args.interface), cfg, { mode, force: args.force });
    if (args.json) return printJson({ ...r, config: { ...cfg, from: cfg.from.map(formatPrefix), addresses: cfg.addresses.map(formatPrefix) } });
    const was = r.replaced ? `, replacing xdptool's "${r.replaced}" program` : "";
    console.log(`${r.interface}: responder ${r.action} (id ${r.progId}, ${r.mode} mode${was}): ${describeConfig(cfg)}`);
  },
});
