// exercises/: every check passes on its solution and fails on its starter (which compiles, and
// fails for not doing the task — or, in the verifier exercise, for the verifier's reason).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DUT, LAB, ROOT, XDPTOOL, sh, xt, xtOk } from "./helpers.ts";
import { judgeLive, liveLab } from "../exercises/live.ts";
import type { Exercise } from "../exercises/lib.ts";

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
      expect(starter.stderr).toMatch(/docs\/\d\d-[\w-]+\.md/);
      // Every chapter a hint names exists: a renamed chapter must take its hints with it.
      for (const [doc] of starter.stderr.matchAll(/docs\/[\w-]+\.md/g)) expect([doc, existsSync(join(ROOT, doc))]).toEqual([doc, true]);
    });
  }

  test("every chapter an exercise names (its README, its check's hints) exists", () => {
    const named = [join(ROOT, "exercises/README.md"), join(ROOT, "exercises/check.ts")]
      .concat(all.flatMap((d) => ["README.md", "frames.ts"].map((f) => join(ROOT, "exercises", d, f))))
      .flatMap((file) => [...readFileSync(file, "utf8").matchAll(/docs\/[\w-]+\.md/g)].map(([doc]) => doc));
    expect(named.length).toBeGreaterThanOrEqual(all.length);
    expect(named.filter((doc) => !existsSync(join(ROOT, doc)))).toEqual([]);
  });

  test("the verifier exercise's starter is refused by the verifier, and the check says where and why", () => {
    const r = check("02");
    expect(r.stderr).toMatch(/the verifier stopped at parse\.bpf\.c:\d+: .*\n  because: invalid access to packet/);
  });

  describe("--live: on the lab, with real traffic", () => {
    afterAll(() => xt("lab", "down"));
    const live = all.filter((d) => require(join(ROOT, "exercises", d, "frames.ts")).default.live);

    test("some exercises go live", () => expect(live.length).toBeGreaterThanOrEqual(2));

    for (const ex of live) {
      test(`${ex}: the solution passes live; the starter (it compiles and loads) is judged wrong live`, async () => {
        const r = check(ex, "--solution", "--live");
        expect([r.code, r.stderr]).toEqual([0, ""]);
        expect(r.stdout).toContain(`✓ ${ex} (solution) live on ${DUT}`);
        const spec: Exercise = (await import(join(ROOT, "exercises", ex, "frames.ts"))).default;
        check(ex); // compiles the starter into .build/yours.o (and fails on the frames)
        xtOk("load", DUT, join(ROOT, "exercises", ex, ".build/yours.o"), "--force");
        try {
          // The judge's own finding, not a command that failed under it.
          expect(judgeLive(spec.live!, liveLab(XDPTOOL, LAB))).toMatch(/^(?!xdptool )./);
        } finally {
          xt("unload", DUT);
        }
      });
    }
  });

  test("an unknown exercise is a usage error", () => {
    const r = check("99-nothing");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^no exercise "99-nothing"; exercises: 01-/);
  });
});
