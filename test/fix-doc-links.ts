// fix-doc-links.ts — move the line links in docs/ back onto the code they name after the code moved:
//   node_modules/.bin/bun test/fix-doc-links.ts
// A link like [`xt_count`](../bpf/include/stats.h#L53) must land on a line containing every
// `backticked` word of its text (test/docs.test.ts checks it). When that line no longer does,
// the nearest line of the same file that does is taken; failing that, the first such line in
// another file of the same folder (code split into new files), same-named files first. Links
// it cannot place are printed: fix those by hand.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, normalize } from "node:path";

const DOCS = join(import.meta.dir, "..", "docs");
const LINK = /\[([^\]]*)\]\((?!https?:|mailto:|#)([^)#\s]+)(?:#L(\d+))?\)/g;

/** Lines (1-based) of a file that contain every word. */
function linesWith(path: string, words: string[]): number[] {
  if (!existsSync(path) || statSync(path).isDirectory()) return [];
  return readFileSync(path, "utf8").split("\n").flatMap((l, i) => (words.every((w) => l.includes(w)) ? [i + 1] : []));
}

for (const chapter of readdirSync(DOCS).filter((f) => /^(\d\d|[A-Z])-.*\.md$/.test(f)).sort()) {
  const file = join(DOCS, chapter), md = readFileSync(file, "utf8");
  let fixed = 0;
  const out = md.replace(LINK, (link, text: string, target: string, line?: string) => {
    const words = [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    if (!line || words.length === 0) return link;
    const path = normalize(join(DOCS, target)), n = Number(line);
    const here = linesWith(path, words);
    if (here.includes(n)) return link;
    if (here.length) {
      fixed++;
      return link.replace(`#L${line})`, `#L${here.reduce((a, b) => (Math.abs(b - n) < Math.abs(a - n) ? b : a))})`);
    }
    const stem = basename(path).split(/[._]/)[0], dir = dirname(path);
    const siblings = readdirSync(dir).sort((a, b) => Number(!a.startsWith(stem)) - Number(!b.startsWith(stem)));
    for (const s of siblings) {
      const found = s === basename(path) ? [] : linesWith(join(dir, s), words);
      if (found.length) {
        fixed++;
        return `[${text}](${join(dirname(target), s)}#L${found[0]})`;
      }
    }
    console.error(`${chapter}: cannot place ${link}`);
    return link;
  });
  if (out !== md) {
    writeFileSync(file, out);
    console.log(`${chapter}: ${fixed} links moved`);
  }
}
