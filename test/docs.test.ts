// Documentation that cannot rot: every docs/ block marked <!-- runnable --> is executed, command by
// command, in the lab the guide uses ("xl"), and the lines shown under each command must appear in
// its output, in order.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, XDPTOOL, sh } from "./helpers.ts";

const DOCS = join(ROOT, "docs");
const env = { XDPTOOL_LAB: "xl", PATH: `${join(XDPTOOL, "..")}:${process.env.PATH}` };

interface Step {
  cmd: string;
  expect: string[];
}

/** The runnable console blocks of a chapter, as commands with their expected output lines. */
export function runnableSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  const blocks = markdown.matchAll(/<!-- runnable -->\s*\n```console\n([\s\S]*?)```/g);
  for (const [, body] of blocks) {
    for (const line of body.split("\n")) {
      if (line.startsWith("$ ")) steps.push({ cmd: line.slice(2), expect: [] });
      else if (line.trim() && steps.length) steps[steps.length - 1].expect.push(line.trim());
    }
  }
  return steps;
}

const chapters = readdirSync(DOCS).filter((f) => /^\d\d-.*\.md$/.test(f)).sort();

beforeAll(() => sh([XDPTOOL, "lab", "down"], { env }));
afterAll(() => sh([XDPTOOL, "lab", "down"], { env }));

test("the guide has its chapters in order, and README links them", () => {
  expect(chapters.length).toBeGreaterThanOrEqual(4);
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  for (const c of chapters) expect(readme).toContain(`docs/${c}`);
});

for (const chapter of chapters) {
  const steps = runnableSteps(readFileSync(join(DOCS, chapter), "utf8"));
  if (steps.length === 0) continue;
  test(`docs/${chapter}: every runnable command prints what the chapter shows`, () => {
    for (const step of steps) {
      const r = sh(["sh", "-c", step.cmd], { env });
      const out = r.stdout + r.stderr;
      let at = 0;
      for (const want of step.expect) {
        const i = out.indexOf(want, at);
        if (i < 0) throw new Error(`docs/${chapter}: \`${step.cmd}\` (exit ${r.code}) did not print "${want}"; it printed:\n${out}`);
        at = i + want.length;
      }
    }
  });
}
