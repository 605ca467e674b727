// table.ts — aligned plain-text tables for listings (every listing also has --json).
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n");
}

export function printJson(v: unknown): void {
  console.log(JSON.stringify(v, (_, x) => (typeof x === "bigint" ? Number(x) : x), 2));
}
