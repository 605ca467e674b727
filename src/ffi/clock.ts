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

/** Wall-clock milliseconds of a CLOCK_MONOTONIC_COARSE timestamp. */
export function monoToWallMs(ns: bigint): number {
  return Date.now() - Number(clockNs() - ns) / 1e6;
}
