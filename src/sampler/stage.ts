// stage.ts — the sampler as a stage of the combined program: its ring's size, and the capture
// lock that tells a running capture from one that was killed.
import { closeFd } from "../ffi/fd.ts";
import { lockFile, tryLock } from "../ffi/lock.ts";
import { DEFAULT_BUFFER_MIB } from "./layout.ts";
import { FEATURE_BITS, enabledBits, setFeature } from "../combined/bits.ts";
import type { Stage } from "../combined/stage.ts";

/** Held by `xdptool sample` for as long as it captures through the combined program. */
export function captureLockPath(ifname: string): string {
  return lockFile(`sample-${ifname}`);
}

/**
 * A capture killed with SIGKILL cannot switch its stage off. Nobody holding the capture lock while
 * the bit is on means exactly that: switch it off (the program keeps running everything else).
 */
export function clearStaleSampler(ifname: string): void {
  if (!(enabledBits(ifname) & FEATURE_BITS.sampler)) return;
  const fd = tryLock(captureLockPath(ifname));
  if (fd === null) return; // a capture is running
  try {
    setFeature(ifname, "sampler", false);
  } finally {
    closeFd(fd);
  }
}

export const samplerStage: Stage = {
  feature: "sampler",
  // The ring serves every capture on the interface: the size a standalone capture gets by
  // default (`sample --buffer` cannot resize it later).
  plan: () => ({
    reload: false,
    configure(obj) {
      const ring = obj.maps().find((m) => m.name === "samp_ring");
      if (ring) obj.setMaxEntries(ring, DEFAULT_BUFFER_MIB << 20);
    },
  }),
  tidy: clearStaleSampler,
};
