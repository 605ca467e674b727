// write.ts — `xdptool save`: the configuration file (docs/10-config.md) for what runs now, as TOML.
// Small rule sets go inline; past INLINE_MAX permanent rules, into a rule file beside the config
// in `blacklist export` syntax. Rules that expire are written with the time they end.
import { hostname } from "node:os";
import { basename } from "node:path";
import { ruleKey, ruleLine } from "../blacklist/rules.ts";
import { monoToWallMs } from "../ffi/clock.ts";
import { durationText } from "../cli/define.ts";
import { OpError } from "../errors.ts";
import { CONFIG_VERSION } from "./model.ts";
import type { LiveInterface } from "./live.ts";
import { tomlString, tomlStrings } from "./toml.ts";

/** Most permanent rules written inline; more go to a rule file (when saving to a file). */
export const INLINE_MAX = 1000;

export interface SavedFiles {
  /** The configuration's text. */
  config: string;
  /** Rule files to write beside it: name (relative to the config's directory) → text. */
  ruleFiles: Map<string, string>;
}

/** An ISO time to the second, rounded up: a saved rule never ends before the live one would. */
const isoSecond = (ms: number) => new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");

/**
 * The configuration for these interfaces. `configName`: the file it goes to (rule files are named
 * after it), or null for standard output (everything inline).
 */
export function configText(live: LiveInterface[], notes: string[], configName: string | null): SavedFiles {
  const ruleFiles = new Map<string, string>();
  const out: string[] = [
    `# xdptool configuration of ${hostname()}, written by \`xdptool save\` at ${new Date().toISOString()}.`,
    "# Apply it with `xdptool apply FILE` (docs/10-config.md). Not saved: the sampler (a capture",
    "# runs while `xdptool sample` runs) and rule counters.",
    ...notes.map((n) => `# ${n}`),
    `version = ${CONFIG_VERSION}`,
  ];
  for (const l of live) {
    out.push("", "[[interface]]", `name = ${tomlString(l.iface.name)}`);
    if (l.iface.netns) out.push(`netns = ${tomlString(l.iface.netns)}`);
    out.push(`mode = ${tomlString(l.mode ?? "auto")}`);
    if (l.features.includes("sampler")) out.push("# a sampler runs here now: not saved");
    if (l.features.includes("blacklist") && l.blacklist) {
      const { capacity, rules } = l.blacklist;
      const permanent = rules.filter((r) => r.expires === 0n).map((r) => ruleLine(ruleKey(r), r.comment));
      const expiring = rules.filter((r) => r.expires !== 0n);
      out.push("", "[interface.blacklist]", `max_rules = ${capacity}`);
      if (configName !== null && permanent.length > INLINE_MAX) {
        const name = `${basename(configName).replace(/\.toml$/, "")}.${l.iface.name}.rules`;
        ruleFiles.set(name, `# ${permanent.length} rules of ${l.iface.name}, saved with ${basename(configName)}\n${permanent.join("\n")}\n`);
        out.push(`file = ${tomlString(name)}   # ${permanent.length} rules, one per line`);
      } else out.push(`rules = ${tomlStrings(permanent)}`);
      if (expiring.length) {
        out.push("expiring = [");
        for (const r of expiring) out.push(`  { rule = ${tomlString(ruleLine(ruleKey(r), r.comment))}, expires = ${isoSecond(monoToWallMs(r.expires))} },`);
        out.push("]");
      }
    }
    const r = l.responder;
    if (l.features.includes("responder") && r) {
      out.push("", "[interface.responder]", `ports = [${r.ports.join(", ")}]`);
      if (r.names === null && r.qnames) throw new OpError(`${l.iface.name}: the responder's ${r.qnames} names cannot be read back (its maps, from an older xdptool, keep only their hashes): run xdptool responder enable ${l.iface.name} --qname … again, then save`);
      out.push(`qnames = ${tomlStrings(r.names ?? [])}   # empty: every name`);
      out.push(`from = ${tomlStrings(r.from)}   # empty: every source`);
      out.push(`addresses = ${tomlStrings(r.addresses)}   # empty: every local address`);
      out.push(`over = ${r.over}   # 0: no rate selection`, `slip = ${r.slip}`, `v4_prefix = ${r.v4Prefix}`, `v6_prefix = ${r.v6Prefix}`);
      out.push(`unverified_only = ${r.unverifiedOnly}   # true: TC only to sources not verified by TCP`);
      if (r.unverifiedOnly) out.push(`verified_ttl = "${durationText(r.verifiedTtl)}"`, `verified_v4_prefix = ${r.verifiedV4Prefix}`, `verified_v6_prefix = ${r.verifiedV6Prefix}`);
    }
  }
  return { config: out.join("\n") + "\n", ruleFiles };
}
