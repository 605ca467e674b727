// stats.ts — the sampler stage's per-CPU counters (samp_stats), summed over CPUs, in the
// order of SAMPLE_STATS: what a capture reports and what the metrics export.
import type { BpfMap } from "../ffi/map.ts";
import { SAMPLE_STATS } from "./layout.ts";

export function readSampleStats(stats: BpfMap): number[] {
  return SAMPLE_STATS.map((_, slot) => {
    const k = Buffer.alloc(4);
    k.writeUInt32LE(slot);
    const b = stats.lookup(k)!;
    let sum = 0;
    for (let c = 0; c < b.length; c += 8) sum += Number(b.readBigUInt64LE(c));
    return sum;
  });
}
