// sample's bad input for the tcpdump flags: one clear line, exit 2, and nothing left behind — no
// capture file, not even an empty one, and no sampler on the interface.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DUT, inNs, xt } from "./helpers.ts";
import { sampleLab, f } from "./sampler-helpers.ts";

sampleLab();

const out = f("out");
mkdirSync(out);
const o = (name: string) => join(out, name);

// Inputs to -r that are not captures (each in its own directory: `out` must stay empty).
const inputs = f("inputs");
mkdirSync(inputs);
const input = (name: string, data: string | Buffer) => {
  writeFileSync(join(inputs, name), data);
  return join(inputs, name);
};
/** A pcap header for Linux cooked captures (tcpdump -i any): not Ethernet. */
const sll = Buffer.alloc(24);
sll.writeUInt32LE(0xa1b2c3d4, 0);
sll.writeUInt16LE(2, 4);
sll.writeUInt16LE(4, 6);
sll.writeUInt32LE(65535, 16);
sll.writeUInt32LE(113, 20);

const cases: [string, string[], string][] = [
  ["-C without -w", [DUT, "-C", "1"], "-C: rotating capture files needs -w FILE"],
  ["-G without -w", [DUT, "-G", "60"], "-G: rotating capture files needs -w FILE"],
  ["-W alone", [DUT, "-W", "3"], "-W: rotating capture files needs -w FILE"],
  ["rotating standard output", [DUT, "-w", "-", "-C", "1"], "needs -w FILE, not standard output"],
  ["-W without -C or -G", [DUT, "-w", o("w.pcap"), "-W", "3"], "-W counts the files of -C or -G"],
  ["-C 0", [DUT, "-w", o("c.pcap"), "-C", "0"], "--file-size (-C) must be a whole number from 1"],
  ["-G not a number", [DUT, "-w", o("g.pcap"), "-G", "1m"], "--rotate-seconds (-G) must be a whole number"],
  ["an unknown strftime conversion", [DUT, "-w", o("%Q.pcap"), "-G", "1"], '"%Q" is not a strftime conversion'],
  ["-G with -r", ["-r", "/dev/null", "-w", o("r.pcap"), "-G", "1"], "-G rotates by the clock of a live capture"],
  ["snaplen past 256 KiB", [DUT, "-s", "262145", "-w", o("s.pcap")], "--snaplen (-s) must be 0 (the most) or a whole number from 1 to 262144"],
  ["snaplen negative", [DUT, "-s", "-1", "-w", o("s.pcap")], "--snaplen (-s) must be 0"],
  ["snaplen past perf's records", [DUT, "-s", "65535", "--transport", "perf", "-w", o("s.pcap")], "from 1 to 65000 with --transport perf"],
  ["-r of a text file", ["-r", input("passwd", "root:x:0:0:root:/root:/bin/bash\n")], "is not a pcap or pcapng capture (it starts with 0x726f6f74)"],
  ["-r of a text file, with -w", ["-r", join(inputs, "passwd"), "-w", o("x.pcap")], "is not a pcap or pcapng capture"],
  ["-r of an empty file", ["-r", input("empty", "")], "is not a pcap or pcapng capture (shorter than any file header)"],
  ["-r of a directory", ["-r", inputs], "cannot read"],
  ["-r of a missing file", ["-r", join(inputs, "nosuch.pcap")], "cannot read"],
  ["-r of a capture of another link type", ["-r", input("sll.pcap", sll)], "link type 113, not Ethernet"],
  ["-r of a pcapng whose block lies about its length", ["-r", input("bad.pcapng", Buffer.from("0a0d0d0a070000004d3c2b1a", "hex"))], "the block at byte 0 claims 7 bytes"],
  ["-r and -i", ["-r", "/dev/null", "-i", DUT], "give one of them"],
  ["-r with a live-only option", ["-r", "/dev/null", "--rate", "10"], "--rate applies to a live capture"],
  ["-e with -w", [DUT, "-e", "-w", o("e.pcap")], "-e and -x shape printed lines"],
  ["no interface and no file", [], "name an interface"],
  ["-i of a missing interface", ["-i", "nosuch0", "-w", o("n.pcap")], 'no interface "nosuch0"'],
];

describe("sample: bad input to the tcpdump flags", () => {
  for (const [what, args, msg] of cases) {
    test(`${what}: exit 2, one line, nothing created`, () => {
      const r = xt("sample", ...args);
      expect(r.stderr).toContain(msg);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
      expect(readdirSync(out)).toEqual([]);
      expect(JSON.parse(inNs(DUT, ["ip", "-j", "link", "show", DUT]).stdout)[0].xdp).toBeUndefined();
    });
  }
});
