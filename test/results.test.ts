// results.test.ts — bench/RESULTS.md keeps exactly the latest run of each benchmark; every run is
// one JSON line in history/<name>.jsonl with its tables as numbers (issue 17 item 8).
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordResults } from "../src/bench/results.ts";

const run = (name: string, when: string, mpps: number) => `## ${name} (${when}, kernel k)\n\n| program | Mpps |\n|---|---|\n| bare | ${mpps} |\n`;

test("the latest run per benchmark in RESULTS.md; every run a JSON line with its table", () => {
  const dir = mkdtempSync(join(tmpdir(), "xt-results-"));
  const file = join(dir, "RESULTS.md");
  writeFileSync(file, "# Results\n\nintro\n\n");
  // a history file from before: markdown, moved into the JSON lines
  mkdirSync(join(dir, "history"));
  writeFileSync(join(dir, "history", "flood.md"), `# flood: earlier runs\n\n${run("flood", "2026-01-01T00:00:00Z", 1.5)}`);
  recordResults(file, run("flood", "2026-02-01T00:00:00Z", 2.5));
  recordResults(file, run("sampler", "2026-02-02T00:00:00Z", 9));
  recordResults(file, run("flood", "2026-03-01T00:00:00Z", 3.5));
  const md = readFileSync(file, "utf8");
  expect(md.startsWith("# Results\n\nintro\n\n")).toBe(true);
  expect(md.match(/^## /gm)).toHaveLength(2);
  expect(md).toContain("2026-03-01T00:00:00Z");
  expect(md).not.toContain("2026-02-01T00:00:00Z");
  expect(existsSync(join(dir, "history", "flood.md"))).toBe(false);
  const lines = readFileSync(join(dir, "history", "flood.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.map((l) => l.recorded)).toEqual(["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"]);
  expect(lines.map((l) => l.tables[0][0].Mpps)).toEqual([1.5, 2.5, 3.5]);
  // tidying again adds nothing
  recordResults(file);
  expect(readFileSync(join(dir, "history", "flood.jsonl"), "utf8").trim().split("\n")).toHaveLength(3);
  expect(readFileSync(join(dir, "history", "sampler.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
});
