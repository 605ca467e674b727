// bits.ts — the combined program's feature switches (bpf/include/features.h): which stages run,
// one bit each in the pinned `xdptool_features` map, beside the layout version of its maps.
// Knows no feature's internals: every feature module may import it.
import { BpfMap } from "../ffi/map.ts";
import { pinDir } from "../ffi/bpffs.ts";
import { exists } from "../ffi/files.ts";
import { lockFile, withLock } from "../ffi/lock.ts";

/** Bits of struct xt_features.enabled (bpf/include/xdptool.h), in stage order. */
export const FEATURE_BITS = { blacklist: 1, responder: 2, sampler: 4 } as const;
export type Feature = keyof typeof FEATURE_BITS;
/** The combined program's name (bpf/xdptool.bpf.c). */
export const COMBINED = "xdptool";
/** XT_LAYOUT_VERSION in bpf/include/xdptool.h (checked by test/compose.test.ts). */
export const LAYOUT_VERSION = 6;
const FEATURES_MAP = "xdptool_features";

function featuresMap(ifname: string): BpfMap | null {
  const path = `${pinDir(ifname)}/${FEATURES_MAP}`;
  return exists(path) ? BpfMap.pinned(path) : null;
}

/** The bits and the layout stamp as pinned ([0, 0] when the combined program is not there). */
function readFeatures(ifname: string): [bits: number, layout: number] {
  const m = featuresMap(ifname);
  if (!m) return [0, 0];
  try {
    const v = m.lookup(Buffer.alloc(4));
    return v ? [v.readUInt32LE(0), v.readUInt32LE(4)] : [0, 0];
  } finally {
    m.close();
  }
}

/** The enabled bits (0 when the combined program is not there). */
export function enabledBits(ifname: string): number {
  return readFeatures(ifname)[0];
}

/** The layout version of the pinned maps, as stamped by the xdptool that loaded the program (0:
 *  none, or from before the stamp). */
export function layoutVersion(ifname: string): number {
  return readFeatures(ifname)[1];
}

/** Write the bits with a layout stamp: this build's after it loaded the program, else the one
 *  there (switching a feature on does not make an older program's maps this build's). */
export function writeFeatures(ifname: string, bits: number, layout = layoutVersion(ifname)): void {
  const m = featuresMap(ifname);
  if (!m) throw new Error(`${ifname}: the combined program has no ${FEATURES_MAP} map`);
  try {
    const v = Buffer.alloc(8);
    v.writeUInt32LE(bits, 0);
    v.writeUInt32LE(layout, 4);
    m.update(Buffer.alloc(4), v);
  } finally {
    m.close();
  }
}

/** Features switched on for the interface (empty when the combined program is not there). */
export function enabledFeatures(ifname: string): Feature[] {
  const bits = enabledBits(ifname);
  return (Object.keys(FEATURE_BITS) as Feature[]).filter((f) => bits & FEATURE_BITS[f]);
}

/** Switch one feature on or off; a lock keeps concurrent commands from losing each other's bits. */
export function setFeature(ifname: string, f: Feature, on: boolean): void {
  withLock(lockFile(`features-${ifname}`), () => {
    const [bits, layout] = readFeatures(ifname);
    writeFeatures(ifname, on ? bits | FEATURE_BITS[f] : bits & ~FEATURE_BITS[f], layout);
  });
}
