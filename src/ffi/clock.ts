// clock.ts — the kernel clocks BPF programs read, as seen from user space.
import { libc } from "./native.ts";
import { alloc } from "./layout.ts";
import { check } from "./error.ts";

/** clockid_t values (linux/time.h). */
export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7;

/** Nanoseconds of a clock; CLOCK_MONOTONIC_COARSE is what bpf_ktime_get_coarse_ns() returns. */
export function clockNs(id = CLOCK_MONOTONIC_COARSE): bigint {
  const ts = alloc(16);
  check("clock_gettime", libc.symbols.clock_gettime(id, ts));
  return ts.readBigInt64LE(0) * 1_000_000_000n + ts.readBigInt64LE(8);
}

let wallMinusMonoMs: bigint | undefined;

/** Wall-clock milliseconds of a CLOCK_MONOTONIC(_COARSE) timestamp. The clocks' offset is read
 *  once, from the precise clocks back to back, and rounded to the millisecond: the same timestamp
 *  gives the same time on every call (Date.now() against the coarse clock moved it by a tick). */
export function monoToWallMs(ns: bigint): number {
  wallMinusMonoMs ??= (clockNs(CLOCK_REALTIME) - clockNs(CLOCK_MONOTONIC) + 500_000n) / 1_000_000n;
  return Number(ns / 1_000_000n + wallMinusMonoMs);
}
