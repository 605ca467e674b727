// prometheus.ts — the counters in Prometheus text exposition format, served over HTTP at /metrics.
import { readCounters } from "../stats.ts";
import { GROUPS, statsInterfaces } from "./rates.ts";
import { UsageError } from "../errors.ts";

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** One scrape: every metric of every interface (or those named). */
export function exposition(only?: string[]): string {
  const ifs = only ?? statsInterfaces();
  const counters = ifs.map((i) => [i, readCounters(i)] as const);
  const lines: string[] = [];
  const family = (name: string, help: string, label: string, stats: readonly string[], field: "packets" | "bytes") => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [ifname, c] of counters) {
      for (const s of stats) lines.push(`${name}{ifname="${esc(ifname)}",${label}="${s}"} ${c[s as keyof typeof c][field]}`);
    }
  };
  family("xdptool_packets_total", "Packets by XDP verdict.", "action", GROUPS.action, "packets");
  family("xdptool_bytes_total", "Bytes by XDP verdict.", "action", GROUPS.action, "bytes");
  family("xdptool_l3_packets_total", "Packets by L3 protocol (outermost after VLAN tags).", "protocol", GROUPS.l3, "packets");
  family("xdptool_l3_bytes_total", "Bytes by L3 protocol.", "protocol", GROUPS.l3, "bytes");
  family("xdptool_l4_packets_total", "IP packets by L4 protocol.", "protocol", GROUPS.l4, "packets");
  family("xdptool_l4_bytes_total", "IP bytes by L4 protocol.", "protocol", GROUPS.l4, "bytes");
  family("xdptool_undecidable_packets_total", "IP packets whose L4 protocol or ports could not be read, by reason.", "reason", GROUPS.undecidable, "packets");
  return lines.join("\n") + "\n";
}

/** "[host]:port" → where to listen (no host: every address, like other exporters). */
export function parseListen(spec: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-f:]+)\]|([^:\[\]]*)):(\d{1,5})$/i.exec(spec);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`--prometheus wants [HOST]:PORT (e.g. :9435 or 127.0.0.1:9435), not "${spec}"`);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
}

export function serve(spec: string, only?: string[]) {
  const { hostname, port } = parseListen(spec);
  return Bun.serve({
    hostname,
    port,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics") {
        try {
          return new Response(exposition(only), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
        } catch (e) {
          return new Response(`# error: ${(e as Error).message}\n`, { status: 500 });
        }
      }
      if (path === "/") return new Response('<a href="/metrics">/metrics</a>\n', { headers: { "content-type": "text/html" } });
      return new Response("not found\n", { status: 404 });
    },
  });
}
