// pipes.test.ts — what a command prints arrives whole, however its standard output is connected:
// a file, a pipe whose reader is slow (the kernel's 64 KiB pipe buffer fills and the writer must
// wait), a pipe whose reader has left. xdptool exits the moment its command is done (src/main.ts):
// output still on its way (a stream's buffer) would be lost, and these listings would come out short.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, XDPTOOL, freshLab, sh, xt, xtOk } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "xt-pipes-"));
const RULES = 6000;

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT);
  // /32s and ports, each with a comment: every listing below is several pipe buffers long.
  const lines = Array.from({ length: RULES }, (_, i) => `198.18.${(i >> 8) & 255}.${i & 255}/32 port ${1000 + i}/udp --comment "rule ${i}"`);
  writeFileSync(join(dir, "rules.txt"), lines.join("\n") + "\n");
  xtOk("blacklist", "import", join(dir, "rules.txt"), "-i", DUT);
});
afterAll(() => {
  xt("lab", "down");
  rmSync(dir, { recursive: true, force: true });
});

const quote = (args: string[]) => args.map((a) => `'${a}'`).join(" ");
const listings: [string, string[]][] = [
  ["blacklist list (a table, console.log)", ["blacklist", "list", "-i", DUT]],
  ["blacklist list --json (console.log)", ["blacklist", "list", "-i", DUT, "--json"]],
  ["blacklist export (writeAll)", ["blacklist", "export", "-i", DUT]],
  ["map dump of the rules' comments (its own buffered writes)", ["map", "dump", "pinned", `/sys/fs/bpf/xdptool/${DUT}/bl_notes`]],
];

describe("a listing arrives whole", () => {
  for (const [what, args] of listings) {
    test(what, () => {
      const toFile = join(dir, "file.out"), throughPipe = join(dir, "pipe.out");
      const f = sh(["bash", "-c", `${XDPTOOL} ${quote(args)} > ${toFile}`]);
      expect(f.code).toBe(0);
      // The reader starts late: the writer finds the pipe full many times over.
      const p = sh(["bash", "-c", `set -o pipefail; ${XDPTOOL} ${quote(args)} | (sleep 0.3; cat > ${throughPipe})`]);
      expect(p.code).toBe(0);
      expect(p.stderr).toBe(f.stderr); // nothing, or map dump's count of entries
      const a = readFileSync(toFile), b = readFileSync(throughPipe);
      expect(a.length).toBeGreaterThan(2 * 65536);
      expect(b.equals(a)).toBe(true);
    });
  }
});

test("a reader that leaves early (| head): xdptool stops, says nothing, exits 0 or as SIGPIPE would (141)", () => {
  for (const [, args] of listings) {
    const s = sh(["bash", "-c", `${XDPTOOL} ${quote(args)} | head -0; echo \${PIPESTATUS[0]}`]);
    expect(s.stderr).toBe("");
    expect(["0", "141"]).toContain(s.stdout.trim());
  }
});
