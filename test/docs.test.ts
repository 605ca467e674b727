// Documentation that cannot rot: every docs/ block marked <!-- runnable --> is executed, command by
// command, in the lab the guide uses ("xl"), and the lines shown under each command must appear in
// its output, in order.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

/**
 * The chapter's relative links: each must name a file that exists, and a line link
 * ([`xt_resp_rewrite`](../bpf/include/responder.h#L325)) must land on a line that still contains
 * every `code` span of its text — so an edit that moves the code breaks the test, not the reader.
 */
export function brokenLinks(markdown: string): string[] {
  const broken: string[] = [];
  for (const [link, text, target, line] of markdown.matchAll(/\[([^\]]*)\]\((?!https?:|mailto:|#)([^)#\s]+)(?:#L(\d+))?\)/g)) {
    const path = join(DOCS, target);
    if (!existsSync(path)) {
      broken.push(`${link}: no such file`);
      continue;
    }
    if (!line) continue;
    const at = readFileSync(path, "utf8").split("\n")[Number(line) - 1] ?? "";
    const code = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    if (code.length === 0) broken.push(`${link}: a line link must name the code it points at, in backticks`);
    for (const c of code) if (!at.includes(c)) broken.push(`${link}: line ${line} is now "${at.trim()}"`);
  }
  return broken;
}

const chapters = readdirSync(DOCS).filter((f) => /^\d\d-.*\.md$/.test(f)).sort();

beforeAll(() => sh([XDPTOOL, "lab", "down"], { env }));
afterAll(() => sh([XDPTOOL, "lab", "down"], { env }));

test("the guide has its chapters in order, and README links them", () => {
  expect(chapters.length).toBeGreaterThanOrEqual(4);
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  for (const c of chapters) expect(readme).toContain(`docs/${c}`);
});

test.each(chapters)("docs/%s: links point at files that exist, line links at the code they name", (chapter) => {
  expect(brokenLinks(readFileSync(join(DOCS, chapter), "utf8"))).toEqual([]);
});

test("a link that no longer matches its line is caught", () => {
  expect(brokenLinks("[`xt_no_such_function`](../bpf/include/responder.h#L1)")).toHaveLength(1);
  expect(brokenLinks("[text](../bpf/include/responder.h#L1)")).toHaveLength(1);
  expect(brokenLinks("[`x`](../no/such/file.h)")).toHaveLength(1);
  const guard = readFileSync(join(ROOT, "bpf/include/dns.h"), "utf8").split("\n").indexOf("#define XDPTOOL_DNS_H") + 1;
  expect(brokenLinks(`[\`XDPTOOL_DNS_H\`](../bpf/include/dns.h#L${guard})`)).toEqual([]);
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
