// exercises/: every check passes on its solution and fails on its starter (which compiles, and
// fails for not doing the task — or, in the verifier exercise, for the verifier's reason).
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sh } from "./helpers.ts";

const all = readdirSync(join(ROOT, "exercises")).filter((d) => /^\d\d-/.test(d)).sort();
const check = (...args: string[]) => sh(["bash", join(ROOT, "exercises/check.sh"), ...args]);

describe("exercises", () => {
  test("there are exercises, numbered in order from 01", () => {
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(all.map((d) => Number(d.slice(0, 2)))).toEqual(all.map((_, i) => i + 1));
  });

  for (const ex of all) {
    test(`${ex}: the check passes on the solution and fails on the starter, naming a frame or map and a chapter`, () => {
      const good = check(ex, "--solution");
      expect([good.code, good.stderr]).toEqual([0, ""]);
      expect(good.stdout).toContain(`✓ ${ex} (solution)`);
      const starter = check(ex);
      expect(starter.code).toBe(1);
      expect(starter.stderr).toMatch(/^✗ .*: (frame \d+ \(|every verdict is right, but map )|the verifier stopped at/m);
      expect(starter.stderr).toMatch(/docs\/0\d-[\w-]+\.md/);
    });
  }

  test("the verifier exercise's starter is refused by the verifier, and the check says where and why", () => {
    const r = check("02");
    expect(r.stderr).toMatch(/the verifier stopped at parse\.bpf\.c:\d+: .*\n  because: invalid access to packet/);
  });

  test("an unknown exercise is a usage error", () => {
    const r = check("99-nothing");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^no exercise "99-nothing"; exercises: 01-/);
  });
});
