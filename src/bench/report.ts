// report.ts — bench results as a table, Markdown and an SVG bar chart.
import { table } from "../table.ts";
import type { Result } from "./run.ts";

const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? "-" : x.toFixed(d));

export function resultTable(rs: Result[]): string {
  return table(["SCENARIO", "NS/PKT", "× BARE", "LIVE MPPS", "× BARE"], rs.map((r) => [r.name, `${f(r.nsPerPacket, 1)}${r.nsMethod === "single" ? "*" : ""}`, f(r.nsRatio), f(r.liveMpps), f(r.liveRatio)]))
    + (rs.some((r) => r.nsMethod === "single") ? "\n* one packet per run (the program rewrites the frame), incl. a system call; ratio to bare XDP_DROP measured the same way" : "");
}

export function resultMarkdown(rs: Result[], command: string, when: Date): string {
  const rows = rs.map((r) => `| ${r.name} | ${f(r.nsPerPacket, 1)}${r.nsMethod === "single" ? "*" : ""} | ${f(r.nsRatio)} | ${f(r.liveMpps)} | ${f(r.liveRatio)} |`);
  return [
    `## xdptool bench — ${when.toISOString()}`,
    "",
    `Command: \`${command}\``,
    "",
    "ns/packet: BPF_PROG_TEST_RUN, median of 5 runs × 1M packets. Live: LIVE_FRAMES over the lab veth (batch 64),",
    "counted by the program's own counters (the kernel's veth xdp_drops for the bare baseline). Ratios are to bare",
    "XDP_DROP measured in the same run (ns: lower is better; live: higher is better). * = one packet per run",
    "(the program rewrites the frame), including a system call; its ratio is to bare XDP_DROP measured the same way.",
    "",
    "| scenario | ns/packet | × bare | live Mpps | × bare |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** Horizontal bars of live Mpps per scenario (those measured live). */
export function resultSvg(rs: Result[]): string {
  const live = rs.filter((r) => r.liveMpps !== null);
  const max = Math.max(1, ...live.map((r) => r.liveMpps!));
  const rowH = 28, left = 300, width = 400;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const bars = live.map((r, i) => {
    const y = 30 + i * rowH, w = (r.liveMpps! / max) * width;
    return `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(r.name)}</text>` +
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="#3a7bd5"/>` +
      `<text x="${left + w + 6}" y="${y + 17}">${r.liveMpps!.toFixed(2)} Mpps (${f(r.liveRatio)}×)</text>`;
  });
  const h = 40 + live.length * rowH;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 160}" height="${h}" font-family="sans-serif" font-size="13">` +
    `<text x="10" y="18" font-weight="bold">xdptool bench: live Mpps per scenario</text>${bars.join("")}</svg>\n`;
}
