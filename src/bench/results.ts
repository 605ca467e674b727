// results.ts — bench/RESULTS.md holds the latest run of each benchmark, one `## name …` section
// each; a new run takes its section's place and the run it replaces moves to
// bench/history/<name>.md, oldest first, so the history is kept but never read as current.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

/**
 * Put `section` (markdown starting with a `## name` heading) into the results file in place of
 * that benchmark's earlier run, which goes to history. Without a section, only tidies the file:
 * every benchmark's latest section stays, the earlier ones move.
 */
export function recordResults(file: string, section?: string): void {
  const { intro, sections } = split(existsSync(file) ? readFileSync(file, "utf8") : "");
  const all = section ? [...sections, section.trimStart().replace(/\n*$/, "\n\n")] : sections;
  const latest = new Map<string, number>();
  all.forEach((s, i) => latest.set(keyOf(s), i));
  const history = join(dirname(file), "history");
  const kept: string[] = [];
  all.forEach((s, i) => {
    const key = keyOf(s);
    if (latest.get(key) === i) return void kept.push(s);
    mkdirSync(history, { recursive: true });
    const h = join(history, `${key.replace(/:? +/g, "-")}.md`);
    if (!existsSync(h)) writeFileSync(h, `# ${key}: earlier runs\n\nOlder runs of this benchmark, oldest first; the latest is in ../RESULTS.md.\n\n`);
    appendFileSync(h, s.replace(/\n*$/, "\n\n"));
  });
  writeFileSync(file, intro + kept.join(""));
}
