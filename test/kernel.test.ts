// The minimum kernel per program (README, --help) comes from the helpers each object really calls:
// src/ffi/probe.ts lists them, llvm-objdump reads them from the compiled objects.
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sh } from "./helpers.ts";
import { HELPERS, OBJECT_HELPERS, kernelNeeded, missingHelpers } from "../src/ffi/probe.ts";

const dir = join(ROOT, "dist/bpf");
const objects = readdirSync(dir).filter((f) => f.endsWith(".bpf.o")).map((f) => f.replace(".bpf.o", ""));

test("OBJECT_HELPERS is exactly the set of helpers each object calls (llvm-objdump), and every one is dated", () => {
  for (const o of objects) {
    const dis = sh(["llvm-objdump", "-d", join(dir, `${o}.bpf.o`)]).stdout;
    const ids = [...new Set([...dis.matchAll(/\bcall (0x[0-9a-f]+|\d+)$/gm)].map((m) => Number(m[1])))].sort((a, b) => a - b);
    expect([o, ids]).toEqual([o, [...(OBJECT_HELPERS[o] ?? [])]]);
    for (const id of ids) expect(HELPERS[id as keyof typeof HELPERS], `helper ${id}`).toBeDefined();
  }
});

test("this kernel has every helper; the combined program needs 5.18", () => {
  for (const o of objects) expect([o, missingHelpers(o)]).toEqual([o, []]);
  expect(kernelNeeded("xdptool")).toBe("5.18");
  expect(kernelNeeded("pass")).toBe("5.9");
});
