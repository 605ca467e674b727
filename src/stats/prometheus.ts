// prometheus.ts — the metrics (metrics.ts) in Prometheus text exposition format, served over HTTP at /metrics.
import { statsInterfaces } from "./rates.ts";
import { collect, METRICS, type MetricName } from "./metrics.ts";
import { UsageError } from "../errors.ts";

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** Rule series per interface unless --top-rules says otherwise (each rule is a series of its own). */
export const TOP_RULES_DEFAULT = 10;

/** One scrape: every metric of every interface (or those named), HELP and TYPE for each family. */
export async function exposition(only?: string[], topRules = TOP_RULES_DEFAULT): Promise<string> {
  const samples = await collect(only ?? statsInterfaces(), topRules);
  const lines: string[] = [];
  for (const [name, rows] of samples) {
    const [type, help] = METRICS[name as MetricName];
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of rows) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`).join(",");
      lines.push(`${name}{${l}} ${Number.isInteger(v) ? v : v.toFixed(3)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** "[host]:port" → where to listen (no host: every address, like other exporters). */
export function parseListen(spec: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-f:]+)\]|([^:\[\]]*)):(\d{1,5})$/i.exec(spec);
  if (!m || Number(m[3]) > 65535) throw new UsageError(`--prometheus wants [HOST]:PORT (e.g. :9435 or 127.0.0.1:9435), not "${spec}"`);
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
}

export function serve(spec: string, only?: string[], topRules = TOP_RULES_DEFAULT) {
  const { hostname, port } = parseListen(spec);
  return Bun.serve({
    hostname,
    port,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/metrics") {
        try {
          return new Response(await exposition(only, topRules), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
        } catch (e) {
          return new Response(`# error: ${(e as Error).message}\n`, { status: 500 });
        }
      }
      if (path === "/") return new Response('<a href="/metrics">/metrics</a>\n', { headers: { "content-type": "text/html" } });
      return new Response("not found\n", { status: 404 });
    },
  });
}
