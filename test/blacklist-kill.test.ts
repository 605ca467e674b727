// blacklist-kill.test.ts — kill -9 at any point of an import leaves the previous rule set whole and
// serving (issue 12): the new set is built in the idle generation (a new IPv4 table, not yet in
// bl_t4) and made live by one write, so a killed import has either not switched or switched.
// Judged by live traffic (the kernel's XDP drop counter) and by what the blacklist reports.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, XDPTOOL, ethtoolStats, freshLab, json, xt, xtOk } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "xdptool-kill-"));
/** n /32s from 100.64.0.0/10 (data only, never a source), then the lab source `src`. */
function ruleFile(name: string, n: number, src: string): string {
  const lines = Array.from({ length: n }, (_, i) => `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
  lines.push(src);
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}
const A = { file: "", n: 200_000 + 1, src: "198.18.0.1" }; // the generator's own address: lab traffic's default source
const B = { file: "", n: 1_000_000 + 1, src: "198.18.9.9" };

function dropsOf(count: number): number {
  const before = ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops;
  xtOk("lab", "traffic", "--count", String(count));
  return ethtoolStats(DUT, DUT).rx_queue_0_xdp_drops - before;
}

beforeAll(() => {
  freshLab();
  xtOk("blacklist", "attach", DUT, "--max-rules", "1100000");
  A.file = ruleFile("a.txt", A.n - 1, A.src);
  B.file = ruleFile("b.txt", B.n - 1, B.src);
});
afterAll(() => xt("lab", "down"));

test("an import killed at any moment: the previous set, whole and dropping, or the new one — never a mix", async () => {
  const seen = new Set<number>();
  for (const delay of [20, 80, 150, 250, 400, 600, 900]) {
    xtOk("blacklist", "import", A.file, "--replace", "-i", DUT);
    expect(dropsOf(1000)).toBe(1000); // A's source is dropped
    const p = spawn([XDPTOOL, "blacklist", "import", B.file, "--replace", "-i", DUT], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(delay);
    p.kill(9);
    await p.exited;
    const s = json<any>("blacklist", "status", "-i", DUT);
    expect([A.n, B.n]).toContain(s.rules); // one set or the other, never part of one
    seen.add(s.rules);
    const live = s.rules === A.n ? A : B;
    expect(json<any>("blacklist", "test", live.src, "-i", DUT).verdict).toBe("drop");
    if (live === A) expect(dropsOf(1000)).toBe(1000); // still serving: the kernel drops A's source
  }
  // After all that, a full import still works (whatever a killed build left idle is cleared).
  xtOk("blacklist", "import", B.file, "--replace", "-i", DUT);
  expect(json<any>("blacklist", "status", "-i", DUT).rules).toBe(B.n);
  expect(json<any>("blacklist", "test", B.src, "-i", DUT).verdict).toBe("drop");
  expect(json<any>("blacklist", "test", A.src, "-i", DUT).verdict).toBe("pass");
  console.log(`killed imports left ${[...seen].map((n) => (n === A.n ? "the old set" : "the new set")).join(" and ")}`);
});
