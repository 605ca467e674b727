// table.ts — aligned plain-text tables for listings (every listing also has --json).
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  // A loop, not Math.max(...column): a million rows would overflow the call stack.
  const widths = headers.map((_, i) => {
    let w = 0;
    for (const r of cells) w = Math.max(w, (r[i] ?? "").length);
    return w;
  });
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n");
}

export function printJson(v: unknown): void {
  console.log(JSON.stringify(v, (_, x) => (typeof x === "bigint" ? Number(x) : x), 2));
}
