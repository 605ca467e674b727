// The TypeScript struct layouts (src/ffi/layout.ts) must match what the C compiler says about
// libbpf's and the kernel's headers, and a buffer whose address is stored in one must live until
// the call that reads it. (bpf/include/xdptool.h is checked where it is used: stats, compose.)
import { expect, test } from "bun:test";
import { layouts } from "../src/ffi/layout.ts";
import { BpfObject } from "../src/ffi/object.ts";
import { testRun } from "../src/ffi/prog.ts";
import { embeddedObject } from "../src/program/embedded.ts";
import { compileAndRun } from "./helpers.ts";

// Field names that are spelled differently in C (nested unions).
const cName: Record<string, string> = { "bpf_link_info.xdp_ifindex": "xdp.ifindex" };

test("every libbpf/kernel struct layout matches the C headers", () => {
  const lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <bpf/libbpf.h>", "#include <bpf/bpf.h>", "#include <linux/bpf.h>", "int main(void) {"];
  for (const [s, l] of Object.entries(layouts)) {
    lines.push(`printf("${s} %zu\\n", sizeof(struct ${s}));`);
    for (const f of Object.keys(l.fields)) {
      lines.push(`printf("${s}.${f} %zu\\n", offsetof(struct ${s}, ${cName[`${s}.${f}`] ?? f}));`);
    }
  }
  lines.push("return 0; }");
  const out = compileAndRun(lines.join("\n"));
  const c = Object.fromEntries(out.trim().split("\n").map((l) => l.split(" ")).map(([k, v]) => [k, Number(v)]));
  const ts: Record<string, number> = {};
  for (const [s, l] of Object.entries(layouts)) {
    ts[s] = l.size;
    for (const [f, [off]] of Object.entries(l.fields)) ts[`${s}.${f}`] = off;
  }
  expect(ts).toEqual(c);
});

// A pointer stored inside a struct does not keep its buffer alive. When the caller never touches a
// buffer again after taking its address (a test run's input), the collector could free it before
// the call, and the kernel read freed memory: 5 frames in 100k arrived with a heap pointer over
// their first 8 bytes, until addr() began holding the buffers it hands out.
test("a test run reads the very frame it was given, under garbage-collection pressure", () => {
  const obj = BpfObject.open(embeddedObject("pass")!, "pass");
  try {
    obj.load();
    const fd = obj.progFd(obj.programs()[0]);
    let wrong = 0;
    for (let i = 0; i < 20000; i++) {
      const frame = new Uint8Array(64 + (i % 200));
      crypto.getRandomValues(frame);
      const r = testRun(fd, { data: frame, dataOut: 512 });
      if (!Buffer.from(frame).equals(r.dataOut!)) wrong++;
      if (i % 1000 === 0) Bun.gc(false);
    }
    expect(wrong).toBe(0);
  } finally {
    obj.close();
  }
});
