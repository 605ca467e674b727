// lib.ts — what an exercise's frames.ts declares: the frames its check sends, and what the
// program must do with each of them (exercises/check.ts compares).
import type { LiveCheck } from "./live.ts";
export { buildFrame } from "../src/net/packet.ts";

export type Verdict = "ABORTED" | "DROP" | "PASS" | "TX" | "REDIRECT";

export interface ExerciseFrame {
  /** What the frame is, as the check names it when the program gets it wrong. */
  what: string;
  frame: Uint8Array;
  verdict: Verdict;
  /** The frame the program must leave (the input unchanged when absent: a program that does not
   *  rewrite must not). */
  out?: Uint8Array;
  /** Records the program must submit to each ring buffer of `rings` for this frame (hex);
   *  none when absent. */
  records?: Record<string, string[]>;
  /** Said when this frame is where the program goes wrong (else the exercise's hint). */
  hint?: string;
}

export interface ExerciseMap {
  name: string;
  /** Entries put in before the frames run, in `map dump --json` form. */
  seed?: { key: unknown; value: unknown }[];
  /** Entries it must hold after the frames (entries whose value is all zeros are ignored). */
  want?: { key: unknown; value: unknown }[];
  hint?: string;
}

export interface Exercise {
  /** The file the reader edits, in the exercise folder (and in solution/). */
  source: string;
  /** The chapter to read when stuck. */
  read: string;
  frames: ExerciseFrame[];
  maps?: ExerciseMap[];
  /** Ring buffers the program submits to, read after each frame. */
  rings?: string[];
  /** With --live: what the program must do on the lab with real traffic. */
  live?: LiveCheck;
  hint: string;
}

/** The same frame with `n` bytes of IPv4 options (NOPs, then End) after the 20-byte header:
 *  IHL, total length and header checksum fixed. Programs that assume 20 bytes get it wrong. */
export function withIpOptions(frame: Uint8Array, n = 4, l3 = 14): Uint8Array {
  const out = new Uint8Array(frame.length + n);
  out.set(frame.subarray(0, l3 + 20));
  out.fill(1, l3 + 20, l3 + 20 + n - 1); // NOP
  out[l3 + 20 + n - 1] = 0; // End of options
  out.set(frame.subarray(l3 + 20), l3 + 20 + n);
  out[l3] = 0x40 | ((20 + n) / 4);
  const tot = ((out[l3 + 2] << 8) | out[l3 + 3]) + n;
  out[l3 + 2] = tot >> 8;
  out[l3 + 3] = tot & 255;
  out[l3 + 10] = out[l3 + 11] = 0;
  let s = 0;
  for (let i = 0; i < 20 + n; i += 2) s += (out[l3 + i] << 8) | out[l3 + i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  out[l3 + 10] = (~s >> 8) & 255;
  out[l3 + 11] = ~s & 255;
  return out;
}

export { csumAdd, csumFold } from "../src/net/packet.ts";
