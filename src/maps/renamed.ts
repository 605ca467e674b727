// renamed.ts — maps whose names changed, and where such a map is pinned.
//
// Each stage's maps carry its tag (blacklist `bl_`, responder `resp_`, sampler `samp_`; the
// program's own `xdptool_`). The sampler's used to be `xt_sample_*`. Pins are read by users'
// scripts, so for one release a renamed map is pinned under both names — two names of one
// bpffs inode, as `ln` would make — and pins made by an older xdptool, which know only the former
// name, are found by it until the next attach adds the new one (src/program/attach.ts; every
// such program has an older layout stamp, so the first feature command of this build reloads it).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pinDir } from "../ffi/bpffs.ts";

/** Today's name → the name before 2026-12 (CHANGELOG.md: the former names go in the next release). */
export const FORMER_NAMES: Readonly<Record<string, string>> = {
  samp_conf: "xt_sample_conf",
  samp_perf: "xt_sample_perf",
  samp_ring: "xt_sample_ring",
  samp_filter: "xt_sample_filter",
  samp_stats: "xt_sample_stats",
  samp_blocks: "xt_sample_blocks",
  samp_cbpf: "xt_cbpf_state",
};

const CURRENT_NAMES = new Map(Object.entries(FORMER_NAMES).map(([now, before]) => [before, now]));

/** Today's name of a map asked for by either name (a former name is still understood). */
export function currentName(name: string): string {
  return CURRENT_NAMES.get(name) ?? name;
}

/** The pin of map `name` in directory `dir`: under today's name, else under the former one
 *  (pins of an older xdptool), else where today's would be. */
export function pinIn(dir: string, name: string): string {
  const now = join(dir, name);
  const before = FORMER_NAMES[name];
  return !existsSync(now) && before && existsSync(join(dir, before)) ? join(dir, before) : now;
}

/** The pin of map `name` of xdptool's program on `ifname` (see pinIn). */
export function mapPin(ifname: string, name: string): string {
  return pinIn(pinDir(ifname), name);
}
