// results.ts — bench/RESULTS.md holds exactly the latest run of each benchmark, one `## name …`
// section each; every run is also appended, as one JSON line, to bench/history/<name>.jsonl:
// {bench, recorded, heading, tables, markdown}, where `tables` are the section's markdown tables
// as rows of {column: value} (numbers where a cell is a number), so the history can be read by
// a program (jq, a plot) and never mistaken for the current figures.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The benchmark a section belongs to: its heading up to " (", " —" or the end ("ffi (tinybench) — …" → "ffi",
 *  "builds compared: flood (…)" → "builds compared: flood"). */
function keyOf(section: string): string {
  return section.match(/^## ([a-z][a-z :-]*?)(?= \(| —|$)/m)?.[1] ?? section.split("\n")[0];
}

/** The file's intro (everything before the first section) and its sections, in order. */
function split(text: string): { intro: string; sections: string[] } {
  const parts = text.split(/^(?=## )/m);
  const intro = parts[0].startsWith("## ") ? "" : parts.shift()!;
  return { intro, sections: parts };
}

const cells = (line: string) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
const value = (c: string): string | number => (/^-?\d+(\.\d+)?$/.test(c) ? Number(c) : c);

/** Every markdown table of a section as rows keyed by its header. */
export function tablesOf(section: string): Record<string, string | number>[][] {
  const tables: Record<string, string | number>[][] = [];
  const lines = section.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].startsWith("|") || !/^\|[\s:|-]+\|$/.test(lines[i + 1].trim())) continue;
    const head = cells(lines[i]);
    const rows: Record<string, string | number>[] = [];
    for (i += 2; i < lines.length && lines[i].startsWith("|"); i++) {
      const c = cells(lines[i]);
      rows.push(Object.fromEntries(head.map((h, k) => [h || `column ${k + 1}`, value(c[k] ?? "")])));
    }
    tables.push(rows);
  }
  return tables;
}

/** The section as one history record. `recorded`: the ISO time in its heading, if it has one. */
export function historyRecord(section: string): object {
  const heading = section.split("\n")[0].replace(/^## /, "");
  const recorded = heading.match(/\d{4}-\d\d-\d\dT[\d:.]+Z|\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?( UTC)?/)?.[0] ?? null;
  return { bench: keyOf(section), recorded, heading, tables: tablesOf(section), markdown: section.trimEnd() };
}

function historyFile(dir: string, key: string): string {
  return join(dir, `${key.replace(/:? +/g, "-")}.jsonl`);
}

/** Earlier history kept as markdown (bench/history/<name>.md): moved into the JSON lines, oldest first. */
function migrate(dir: string, key: string): void {
  const md = historyFile(dir, key).replace(/\.jsonl$/, ".md");
  if (!existsSync(md)) return;
  const { sections } = split(readFileSync(md, "utf8"));
  const old = sections.map((s) => JSON.stringify(historyRecord(s))).join("\n");
  const jl = historyFile(dir, key);
  const now = existsSync(jl) ? readFileSync(jl, "utf8") : "";
  writeFileSync(jl, (old ? old + "\n" : "") + now);
  rmSync(md);
}

/**
 * Put `section` (markdown starting with a `## name` heading) into the results file in place of
 * that benchmark's earlier run, and append it to the benchmark's history. Without a section, only
 * tidies the file: every benchmark's latest section stays, earlier ones go to their history.
 */
export function recordResults(file: string, section?: string): void {
  const { intro, sections } = split(existsSync(file) ? readFileSync(file, "utf8") : "");
  const history = join(dirname(file), "history");
  mkdirSync(history, { recursive: true });
  const fresh = section?.trimStart().replace(/\n*$/, "\n\n");
  const all = fresh ? [...sections, fresh] : sections;
  const latest = new Map<string, number>();
  all.forEach((s, i) => latest.set(keyOf(s), i));
  const kept: string[] = [];
  all.forEach((s, i) => {
    const key = keyOf(s);
    migrate(history, key);
    if (latest.get(key) === i) kept.push(s);
    // Every run once: a section in the file was recorded when it was new (files from before the
    // history was kept this way get theirs now).
    if (s === fresh || !historyHas(history, key, s)) appendFileSync(historyFile(history, key), JSON.stringify(historyRecord(s)) + "\n");
  });
  writeFileSync(file, intro + kept.join(""));
}

function historyHas(dir: string, key: string, section: string): boolean {
  const f = historyFile(dir, key);
  if (!existsSync(f)) return false;
  const heading = section.split("\n")[0].replace(/^## /, ""); // a run's heading carries its time
  return readFileSync(f, "utf8").split("\n").some((l) => l && JSON.parse(l).heading === heading);
}
