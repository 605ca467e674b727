// Documentation that cannot rot: every docs/ block marked <!-- runnable --> is executed, command by
// command, and the lines shown under each command must appear in its output, in order. A command
// must succeed unless the block shows its failure: a last output line `[exit N]` says it exits N.
// The guide uses the operator's default lab, "xl"; the test runs it in a lab of its own ("xd"),
// never touching one a user may have up.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, XDPTOOL, sh } from "./helpers.ts";

const DOCS = join(ROOT, "docs");
const LAB = "xd";
const env = { XDPTOOL_LAB: LAB, PATH: `${join(XDPTOOL, "..")}:${process.env.PATH}` };
/** The guide's lab names (xl, xl-dut, xl-gen) as the test's own. */
const ownLab = (text: string) => text.replace(/\bxl\b/g, LAB);

interface Step {
  cmd: string;
  expect: string[];
  /** The exit status the chapter shows (`[exit N]`), 0 when it shows none. */
  exit: number;
}

/** The runnable console blocks of a chapter, as commands with their expected output lines. */
export function runnableSteps(markdown: string): Step[] {
  const steps: Step[] = [];
  const blocks = markdown.matchAll(/<!-- runnable -->\s*\n```console\n([\s\S]*?)```/g);
  for (const [, body] of blocks) {
    for (const line of body.split("\n")) {
      const exit = line.trim().match(/^\[exit (\d+)\]$/);
      if (line.startsWith("$ ")) steps.push({ cmd: line.slice(2), expect: [], exit: 0 });
      else if (exit && steps.length) steps[steps.length - 1].exit = Number(exit[1]);
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

/** Chapters (00-…, 01-…) in order, then the appendices (A-…, B-…). */
const chapters = readdirSync(DOCS).filter((f) => /^(\d\d|[A-Z])-.*\.md$/.test(f)).sort();

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

test("a runnable block's commands, expected lines and shown exit statuses are read as written", () => {
  const md = "<!-- runnable -->\n```console\n$ xdptool status xl-dut\nxl-dut  native\n$ xdptool blacklist add bogus\ninvalid rule\n[exit 2]\n```\n";
  expect(runnableSteps(md)).toEqual([
    { cmd: "xdptool status xl-dut", expect: ["xl-dut  native"], exit: 0 },
    { cmd: "xdptool blacklist add bogus", expect: ["invalid rule"], exit: 2 },
  ]);
  expect(ownLab("xdptool lab up # lab xl: xl-dut, xl-gen; not xlate")).toBe(`xdptool lab up # lab ${LAB}: ${LAB}-dut, ${LAB}-gen; not xlate`);
});

for (const chapter of chapters) {
  const steps = runnableSteps(readFileSync(join(DOCS, chapter), "utf8"));
  if (steps.length === 0) continue;
  test(`docs/${chapter}: every runnable command prints what the chapter shows`, () => {
    for (const step of steps) {
      const cmd = ownLab(step.cmd);
      const r = sh(["sh", "-c", cmd], { env });
      const out = r.stdout + r.stderr;
      if (r.code !== step.exit) throw new Error(`docs/${chapter}: \`${cmd}\` exited ${r.code}, the chapter shows ${step.exit ? `[exit ${step.exit}]` : "success"}; it printed:\n${out}`);
      // Columns are compared as words: a table's widths follow whatever else runs on the machine.
      const flat = out.replace(/ +/g, " ");
      let at = 0;
      for (const want of step.expect.map((w) => ownLab(w).replace(/ +/g, " "))) {
        const i = flat.indexOf(want, at);
        if (i < 0) throw new Error(`docs/${chapter}: \`${cmd}\` (exit ${r.code}) did not print "${want}"; it printed:\n${out}`);
        at = i + want.length;
      }
    }
  });
}
