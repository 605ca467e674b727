// pcap-file.ts — a whole list of frames written to a pcap file at once, through the capture's own
// writer: the exercises' frame scripts and the tests make their input captures with it.
import { openSync } from "node:fs";
import { Output } from "./output.ts";
import { PcapWriter } from "./pcap-writer.ts";

export async function writePcapFile(path: string, frames: Uint8Array[], start = { sec: 1_700_000_000, nsec: 0 }): Promise<void> {
  const out = new Output(openSync(path, "w"), true);
  try {
    await out.ready;
    const w = new PcapWriter(out, 262144);
    frames.forEach((f, i) => {
      const b = Buffer.from(f.buffer, f.byteOffset, f.length);
      w.packet({ sec: start.sec + i, nsec: start.nsec }, b, 0, b.length, b.length);
    });
    w.finish();
  } finally {
    out.close();
  }
}
