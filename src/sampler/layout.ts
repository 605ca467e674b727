// layout.ts — the sampler structs of bpf/include/xdptool.h as the TypeScript side reads and
// writes them (test/sampler.test.ts compares every figure with the C header).

/** struct xt_samp_hdr: what precedes each record's packet bytes. */
export const HDR_LAYOUT = { size: 32, tstamp: 0, origLen: 8, capLen: 12, ifindex: 16, rxQueue: 20, action: 28 } as const;
/** struct xt_samp_cfg */
export const CFG_LAYOUT = { size: 32, watermark: 0, rate: 8, snaplen: 12, mode: 16, drop: 20, kfilter: 24, actions: 28 } as const;
/** XT_SAMP_MODE_* */
export const MODE = { perf: 0, ringbuf: 1 } as const;
/** The slots of samp_stats, in order (XT_SAMP_SEEN …). */
export const SAMPLE_STATS = ["seen", "sampledOut", "submitted", "lost", "kernelFiltered"] as const;
/** XT_SAMP_MAX_SNAP (bpf/include/sampler.h): tcpdump's default and largest, 256 KiB. */
export const MAX_SNAPLEN = 262144;
/** XT_SAMP_PERF_MAX_SNAP: a perf record's size is 16 bits. */
export const MAX_SNAPLEN_PERF = 65000;
/** Default capture buffer: 16 MiB took 5+ Mpps of 64-byte records losslessly here; 4 MiB did not. */
export const DEFAULT_BUFFER_MIB = 16;
/** XT_CBPF_MAX: longest filter the kernel side runs (longer ones run in user space). */
export const CBPF_MAX = 256;

export interface SampleCfg {
  watermark: number;
  rate: number;
  snaplen: number;
  mode: keyof typeof MODE;
  drop: boolean;
  kfilter: boolean;
  actions: number;
}

export function encodeCfg(c: SampleCfg): Buffer {
  const b = Buffer.alloc(CFG_LAYOUT.size);
  b.writeBigUInt64LE(BigInt(c.watermark), CFG_LAYOUT.watermark);
  b.writeUInt32LE(c.rate, CFG_LAYOUT.rate);
  b.writeUInt32LE(c.snaplen, CFG_LAYOUT.snaplen);
  b.writeUInt32LE(MODE[c.mode], CFG_LAYOUT.mode);
  b.writeUInt32LE(c.drop ? 1 : 0, CFG_LAYOUT.drop);
  b.writeUInt32LE(c.kfilter ? 1 : 0, CFG_LAYOUT.kfilter);
  b.writeUInt32LE(c.actions, CFG_LAYOUT.actions);
  return b;
}
