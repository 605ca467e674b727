// The README's first command ends with `dist/xdptool lab demo`: it must block, respond, sample
// and count on a lab of its own, and leave nothing behind.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { sh, XDPTOOL } from "./helpers.ts";

test("lab demo blocks, responds, samples and cleans up", () => {
  const r = sh([XDPTOOL, "lab", "demo", "--lab", "xdemo"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const out = r.stdout;
  expect(out).toMatch(/198\.18\.7\.0\/24\s+-\s+1000\s+60000/); // the deny rule caught all 1000 frames
  expect(out).toMatch(/allow 198\.18\.7\.10\/32\s+-\s+100\s+6000/); // the exception let its 100 through
  expect(out).toMatch(/xdemo-dut\s+53\s+1\s+all\s+-\s+-\s+1000\s/); // the 1000 queries answered (OVER and VERIFIED: -)
  expect(out).toContain("answered 1001"); // … and dig's, later
  expect(out).toContain(";; flags: qr tc rd ra;"); // dig got XDP's truncated reply (RA copies RD, as dnsdist does)
  expect(out).toMatch(/tshark reads it: [1-9]\d* dropped from 198\.18\.7\.7, [1-9]\d* TC=1 DNS replies/);
  expect(out).toContain("lab xdemo removed");
  expect(existsSync("/run/netns/xdemo-dut")).toBe(false);
  expect(existsSync("/sys/fs/bpf/xdptool/xdemo-dut")).toBe(false);
});
