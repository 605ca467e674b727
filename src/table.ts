// table.ts — aligned plain-text tables for listings (every listing also has --json).
import { OpError } from "./errors.ts";
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

const bigints = (_: string, x: unknown) => (typeof x === "bigint" ? Number(x) : x);

export function printJson(v: unknown): void {
  const rows = v && typeof v === "object" && !Array.isArray(v) ? Object.entries(v).find(([, x]) => Array.isArray(x) && x.length > 10_000) : undefined;
  if (!rows) return void console.log(JSON.stringify(v, bigints, 2));
  // A big listing (a million rules): one compact element per line, written in pieces.
  // Pretty-printing it whole would build a 150 MB string and take seconds; this is the same
  // JSON to jq. Elements are plain rows (no BigInt), so no replacer runs per value.
  const [key, list] = rows as [string, unknown[]];
  const head = JSON.stringify({ ...(v as object), [key]: [] }, bigints, 2);
  const open = head.indexOf(`"${key}": []`) + key.length + 5; // just past the "["
  writeAll(head.slice(0, open) + "\n");
  for (let i = 0; i < list.length; i += 50_000) {
    const part = list.slice(i, i + 50_000).map((x) => "    " + JSON.stringify(x));
    writeAll(part.join(",\n") + (i + 50_000 < list.length ? ",\n" : "\n"));
  }
  writeAll("  ]" + head.slice(open + 1) + "\n");
}

/** All of `text` to stdout, synchronously: a pipe reader gets every byte even if the process
 *  exits right after (process.stdout.write of a big string followed by exit loses the tail). */
export function writeAll(text: string | Buffer): void {
  const { writeSync } = require("node:fs") as typeof import("node:fs"); // here: a table printed with console.log never loads it
  const b = typeof text === "string" ? Buffer.from(text) : text;
  for (let off = 0; off < b.length; ) {
    try {
      off += writeSync(1, b, off, b.length - off);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EPIPE") process.exit(141); // the reader left (| head): stop, as SIGPIPE would
      // A full disk under `export > rules.txt`: say what failed, in one line (exit 1).
      if (code !== "EAGAIN") throw new OpError(`write standard output: ${code ?? (e as Error).message} (${(e as Error).message.split(",")[0].replace(/^[A-Z]+: /, "")})`);
      Bun.sleepSync(1);
    }
  }
}
