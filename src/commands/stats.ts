import { defineCommand, intArg, jsonArg } from "../cli/define.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "stats",
    description: `Packets, bytes, packets/s and Mbit/s per XDP verdict and protocol, from the programs' own counters.

  Every xdptool program counts what it sees in its per-CPU map xdptool_stats. Rates come from two
  reads --interval seconds apart. Without an interface: every interface running an xdptool program.

  Group "undecidable" counts IP packets whose L4 protocol or ports could not be read though they
  must exist, by reason: l4u_ip_cut (IP header cut short or malformed), l4u_ext_cut (an IPv6
  extension header runs past the packet), l4u_ports_cut (TCP/UDP ports past the packet),
  l4u_frag_cut (a first fragment that stops before L4, RFC 8200 §4.5), l4u_chain_long (header chain
  beyond the parser's reach: only in frames over 32 KiB). Later fragments are not undecidable
  (their ports are in the first fragment).

  The metrics: per-verdict, protocol and undecidable packets and bytes (xdptool_packets_total, …),
  and for each feature an interface runs its own: blacklist (xdptool_blacklist_rules, dropped and
  allowed packets and bytes, the --top-rules rules with the most packets as labelled series),
  responder (answered, slip_dropped, passed by reason), sampler (seen, captured, lost, skipped),
  feeds (rules, last success time, up). docs/03 lists them all; docs/grafana-dashboard.json
  draws them.

  Examples:
    xdptool stats xl-dut                       # totals and rates over one second
    xdptool stats xl-dut --watch --interval 2  # refresh until Ctrl-C
    xdptool stats --json | jq '.interfaces."xl-dut".pass.pps'
    xdptool stats --watch --json               # one JSON object per interval (JSON lines)
    xdptool stats --prometheus :9435           # serve http://HOST:9435/metrics for Prometheus
    xdptool stats eth0 --prometheus 127.0.0.1:9435 --top-rules 50`,
  },
  args: {
    interface: { type: "positional", required: false, description: "Interface (default: all that run an xdptool program)" },
    watch: { type: "boolean", description: "Refresh every interval until Ctrl-C" },
    interval: { type: "string", description: "Seconds between the two reads (decimals allowed)", default: "1" },
    prometheus: { type: "string", description: "Serve Prometheus metrics at [HOST]:PORT/metrics instead" },
    topRules: { type: "string", description: "With --prometheus: export the N blacklist rules with the most packets, per interface (0 to 1000)", default: "10" },
    ...jsonArg,
  },
  async run({ args }) {
    const interval = Number(args.interval);
    if (!/^\d+(\.\d+)?$/.test(args.interval) || interval < 0.05 || interval > 3600) throw new UsageError(`--interval must be seconds from 0.05 to 3600, not "${args.interval}"`);
    // Every usage error before anything else (a bad address is exit 2 even with nothing to serve).
    if (args.prometheus !== undefined) (await import("../stats/prometheus.ts")).parseListen(args.prometheus);
    const topRules = intArg("top-rules", args.topRules, 0, 1000);
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool stats");
    const { pickInterfaces, runStats } = await import("../stats/show.ts");
    const ifs = pickInterfaces(args.interface);
    if (args.prometheus !== undefined) {
      const { serve } = await import("../stats/prometheus.ts");
      const s = serve(args.prometheus, args.interface ? ifs : undefined, topRules);
      console.error(`xdptool: serving Prometheus metrics at http://${s.hostname}:${s.port}/metrics (Ctrl-C stops)`);
      if (!args.interface) return new Promise<void>(() => {});
      // One named interface: when it goes, so does the endpoint (exit 1, the reason on stderr).
      const { goneCheck } = await import("../stats/show.ts");
      const gone = goneCheck(ifs);
      return new Promise<void>((_, reject) => {
        const t = setInterval(() => {
          try {
            gone();
          } catch (e) {
            clearInterval(t);
            s.stop(true);
            reject(e);
          }
        }, 500);
      });
    }
    await runStats(args.interface ? ifs : null, { interval, watch: !!args.watch, json: !!args.json });
  },
});
