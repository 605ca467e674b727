// help.test.ts — what every `--help` teaches holds: its prose is laid out as prose (a line that
// starts with a word like "xdptool's" is not taken for an example), and each `--json | jq …`
// example, run as written against the lab, prints a value (not null: the JSON has that shape).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { DUT, XDPTOOL, freshLab, sh, xt, xtOk } from "./helpers.ts";

/** Every command path, walked through the COMMANDS lists of --help, with its help text. */
function allHelp(path: string[] = []): [string[], string][] {
  const out = xtOk(...path, "--help");
  const subs = out.split("\nCOMMANDS\n")[1]?.split("\n\n")[0].split("\n").map((l) => l.match(/^  ([a-z]\S*)/)?.[1]).filter((x): x is string => !!x) ?? [];
  return [[path, out], ...subs.flatMap((s) => allHelp([...path, s]))];
}
const helps = allHelp();
const indent = (l: string) => l.match(/^ */)![0].length;
const isExample = (l: string) => /^\s*(xdptool|ip|bpftool|tcpdump|dig|curl) /.test(l) || l.includes("  # ");

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "1024");
  xtOk("blacklist", "add", "198.18.7.0/24", "-i", DUT);
  xtOk("responder", "enable", DUT);
  xtOk("lab", "traffic", "--src", "198.18.7.5", "--count", "10");
});
afterAll(() => xt("lab", "down"));

test("every command's help has examples", () => {
  const without = helps.filter(([, text]) => !/\n  Examples:\n {4}(xdptool|source) /.test(text.split("\nUSAGE ")[0])).map(([p]) => p.join(" ") || "xdptool");
  expect(without).toEqual([]);
});

test("descriptions: a prose line never hangs under the one before as if it wrapped an example", () => {
  expect(helps.length).toBeGreaterThan(30);
  const odd: string[] = [];
  for (const [path, text] of helps) {
    const lines = text.split("\nUSAGE ")[0].split("\n");
    for (let i = 1; i < lines.length; i++) {
      const [a, b] = [lines[i - 1], lines[i]];
      if (a.trim() && b.trim() && !isExample(a) && !a.endsWith(":") && indent(b) === indent(a) + 4) odd.push(`${path.join(" ")}: ${b.trim()}`);
    }
  }
  expect(odd).toEqual([]);
});

test("man pages: an example block holds commands only (a prose line about xdptool's pins stays prose)", () => {
  const odd: string[] = [];
  for (const [path] of helps) {
    let inEx = false;
    for (const l of xtOk("man", ...path).split("\n")) {
      if (l === ".EX") inEx = true;
      else if (l === ".EE") inEx = false;
      else if (inEx && !/^(xdptool|source|ip|bpftool) /.test(l)) odd.push(`${path.join(" ")}: ${l}`);
    }
  }
  expect(odd).toEqual([]);
});

test("every `--json | jq` example prints a value when run as written (the lab's DUT for xl-dut)", () => {
  const examples = helps.flatMap(([, text]) => [...text.matchAll(/^\s+(xdptool [^|\n]*--json[^|\n]*)\| jq (-r )?'([^']+)'/gm)].map((m) => ({ cmd: m[1].trim(), expr: m[3] })));
  const runnable = examples.filter((e) => !/\.\/|\/sys\/fs\/bpf\/my_/.test(e.cmd)); // a file of the reader's own
  expect(runnable.map((e) => e.cmd.split(" ")[1]).sort()).toEqual(expect.arrayContaining(["blacklist", "map", "responder", "stats", "status"]));
  for (const e of runnable) {
    const words = e.cmd.replaceAll("xl-dut", DUT).split(/\s+/).slice(1);
    if (words[0] === "blacklist" && !words.includes("-i")) words.push("-i", DUT); // other labs may run blacklists too
    const r = sh(["sh", "-c", `"$0" "$@" | jq -e '${e.expr.replaceAll("xl-dut", DUT)}' >/dev/null`, XDPTOOL, ...words]);
    expect({ example: `${e.cmd} | jq '${e.expr}'`, code: r.code, stderr: r.stderr }).toEqual({ example: `${e.cmd} | jq '${e.expr}'`, code: 0, stderr: "" });
  }
});
