// stage.ts — the blacklist as a stage of the combined program: how big its maps are made, and
// when they may be made again.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { pinDir } from "../ffi/bpffs.ts";
import { clockNs } from "../ffi/clock.ts";
import { sizeMaps } from "./sizing.ts";
import { NEWER_MAPS } from "./layout.ts";
import { pinnedCapacity, withBlacklist } from "./store.ts";
import type { Stage } from "../combined/stage.ts";
import { enabledFeatures } from "../combined/bits.ts";

/** Blacklist capacity of a combined program attached for another feature first (≈ 56 MiB). */
export const DEFAULT_BLACKLIST_RULES = 65_536;
/** What `blacklist attach` sizes an empty blacklist for (standalone or joining the program). */
export const ATTACH_BLACKLIST_RULES = 1_200_000;

/** Nothing in the blacklist's maps (live or expired): they can be recreated at another size. */
export function blacklistEmpty(ifname: string): boolean {
  return withBlacklist(ifname, (bl) => {
    const { live, expired } = bl.census(clockNs());
    return live + expired.length === 0;
  });
}

/**
 * The size switching the blacklist on asks for: maxRules when given; else room for
 * ATTACH_BLACKLIST_RULES, also when the program came with a smaller blacklist for another feature
 * (responder, sample) and nobody has used it yet; undefined: a blacklist that is on, or holds
 * rules, keeps its size.
 */
export function attachSize(ifname: string, maxRules?: number): number | undefined {
  if (maxRules !== undefined) return maxRules;
  const current = pinnedCapacity(ifname);
  if (current === undefined) return ATTACH_BLACKLIST_RULES;
  const grow = current < ATTACH_BLACKLIST_RULES && !enabledFeatures(ifname).includes("blacklist") && blacklistEmpty(ifname);
  return grow ? ATTACH_BLACKLIST_RULES : undefined;
}

export const blacklistStage: Stage = {
  feature: "blacklist",
  plan(ifname, running, opts) {
    const current = pinnedCapacity(ifname);
    const resize = opts.blacklistRules !== undefined && current !== undefined && opts.blacklistRules !== current;
    // New maps of another size start empty: only while there is nothing to lose (pinned rules
    // count even when the program is gone: a re-attach adopts them).
    if (resize && !blacklistEmpty(ifname)) {
      throw new UsageError(`the blacklist on ${ifname} holds up to ${current} rules and has rules; to resize: xdptool blacklist export > rules.txt, xdptool blacklist flush, xdptool blacklist attach ${ifname} --max-rules ${opts.blacklistRules}, xdptool blacklist import rules.txt`);
    }
    const rules = opts.blacklistRules ?? current ?? DEFAULT_BLACKLIST_RULES;
    // Pins from before a map was added (comments, bl_host4): attaching again adds it, the rules kept.
    const older = current !== undefined && Object.keys(NEWER_MAPS).some((n) => !existsSync(join(pinDir(ifname), n)));
    return { reload: resize || older, fresh: (name) => resize && name.startsWith("bl_"), configure: (obj) => sizeMaps(obj, rules) };
  },
};
