// A loaded program's source lines and their addresses in the JIT image (src/ffi/lineinfo.ts, read
// by bench/profile.ts): checked against what the kernel itself says — the program's symbol in
// /proc/kallsyms is where a line's code begins — and against the source file.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { DUT, ROOT, freshLab, json, xt, xtOk } from "./helpers.ts";
import { jitedLines } from "../src/ffi/lineinfo.ts";
import { progInfoById } from "../src/ffi/prog.ts";

beforeAll(() => freshLab());
afterAll(() => xt("lab", "down"));

test("hello's lines: in address order, one at its kallsyms symbol, each line's text the source's", () => {
  xtOk("load", DUT, "hello");
  const id = json("status", DUT).id as number;
  const lines = jitedLines(id);
  expect(lines.length).toBeGreaterThan(10);
  expect(lines.map((l) => l.addr)).toEqual([...lines.map((l) => l.addr)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  const sym = `bpf_prog_${progInfoById(id).tag}_hello`;
  // The program's code begins at its symbol with its first line (subprograms, such as a bpf_loop
  // callback, are images of their own elsewhere). A tag is a hash of the instructions: a hello
  // loaded elsewhere (another lab) has the same symbol name, so ours is one of that name's.
  const at = readFileSync("/proc/kallsyms", "utf8").split("\n").filter((l) => l.split(/\s+/)[2] === sym).map((l) => BigInt(`0x${l.split(" ")[0]}`));
  expect(at.length).toBeGreaterThan(0);
  expect(at.some((a) => lines.some((l) => l.addr === a))).toBe(true);
  // Each line carries its file's text at that line number (paths as clang saw them: relative to
  // bpf/, where the Makefile compiles, or absolute).
  const checked = lines.filter((x) => x.text !== "").map((l) => {
    const path = isAbsolute(l.file) ? l.file : join(ROOT, "bpf", l.file);
    expect(readFileSync(path, "utf8").split("\n")[l.line - 1].trim()).toBe(l.text);
    return path;
  });
  expect(checked.length).toBeGreaterThan(10);
  // The program's own file and the headers inlined into it.
  for (const f of ["hello.bpf.c", "parsing.h", "stats.h"]) expect(lines.some((l) => l.file.endsWith(f))).toBe(true);
  xtOk("unload", DUT);
});
