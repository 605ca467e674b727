import { defineCommand, jsonArg } from "../cli/define.ts";
import { OpError, UsageError } from "../errors.ts";
import { printJson } from "../table.ts";

export default defineCommand({
  meta: {
    name: "apply",
    description: `Make this host run what a configuration file (written by \`xdptool save\`) describes.

  For each interface in the file: xdptool's program attached in its mode, the blacklist on with
  exactly the file's rules (the set swapped at once, as \`blacklist import --replace\`: counters of
  rules that stay are kept), the responder on with the file's selection; a feature the file does
  not name is switched off there. Interfaces not in the file are left alone (--prune: their
  blacklist and responder are switched off too). Applying a file the host already matches writes
  nothing, re-attaches nothing and says so.

  The whole file (and its rule files) is checked before anything changes: a mistake is
  FILE:LINE: reason, exit 2. An interface that does not exist, or that runs a
  program not loaded by xdptool, is reported and skipped; the others are
  applied; exit 1.
  docs/10-config.md describes the file.

  Examples:
    xdptool apply /etc/xdptool/xdptool.toml
    xdptool apply xdptool.toml --dry-run        # the difference: rules to add and remove, features to switch
    xdptool save > before.toml && xdptool apply new.toml`,
  },
  args: {
    file: { type: "positional", required: true, description: "The configuration file (TOML, version = 1)" },
    "dry-run": { type: "boolean", description: "Print what would change, change nothing" },
    prune: { type: "boolean", description: "Also switch off the blacklist and responder on interfaces the file does not name" },
    ...jsonArg,
  },
  async run({ args }) {
    const { loadConfig, ifaceSpec } = await import("../config/model.ts");
    const cfg = loadConfig(args.file); // every mistake in the file before anything is touched
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool apply");
    const { findIface } = await import("../config/live.ts");
    const { plan, execute } = await import("../config/plan.ts");
    const { enterNetns } = await import("../ffi/netns.ts");
    const { importFeed } = await import("../blacklist/feeds.ts");
    const refreshFeed = (ifname: string, url: string) =>
      importFeed(ifname, url, { replace: false, force: false, maxBytes: 64 << 20, timeoutMs: 60_000, maxRedirects: 5 });
    const dry = !!args["dry-run"];
    const wanted = [...cfg.interfaces];
    if (args.prune) {
      const { inventory } = await import("../program/inventory.ts");
      const named = new Set(cfg.interfaces.map((i) => i.name));
      for (const s of inventory()) {
        if (named.has(s.interface) || s.owner !== "xdptool" || !s.features.some((f) => f === "blacklist" || f === "responder")) continue;
        wanted.push({ name: s.interface, netns: s.netns, mode: "auto", line: 0, blacklist: null, responder: null });
      }
    }
    const results: { interface: string; netns: string | null; changes: string[]; notes: string[]; error?: string }[] = [];
    let failed = 0, feedsFailed = 0;
    for (const want of wanted) {
      const where = want.line ? `${args.file}:${want.line}` : `${ifaceSpec(want)} (not in ${args.file}, --prune)`;
      try {
        const p = plan(findIface(want.name, want.netns), want);
        if (!dry && p.changes.length) await execute(p);
        // Feeds are fetched on every apply (the refresh timer runs apply): an unchanged feed costs
        // one conditional request; one that cannot be fetched keeps its last rules and is reported.
        for (const f of want.blacklist?.feeds ?? []) {
          if (dry) {
            p.notes.push(`feed ${f.url}: fetched when applied`);
            continue;
          }
          // From the host's namespace: the download runs on Bun's HTTP thread, which takes the
          // namespace of the thread that first starts it (apply has just been in the interface's).
          enterNetns(null);
          const r = await refreshFeed(want.name, f.url).catch((e: Error) => e);
          if (r instanceof Error) {
            feedsFailed++;
            p.notes.push(`feed ${f.url}: ${r.message.split("\n")[0]}`);
            console.error(`xdptool: ${args.file}:${f.line}: ${r.message.split("\n")[0]}`);
          } else if (r.status === "applied") p.changes.push(`feed ${r.url}: ${r.rules} rules applied`);
          else p.notes.push(`feed ${r.url}: unchanged (${r.why})`);
        }
        results.push({ interface: want.name, netns: want.netns, changes: p.changes, notes: p.notes });
      } catch (e) {
        if (!(e instanceof Error) || !("exitCode" in e)) throw e;
        failed++;
        const msg = e.message.split("\n")[0];
        const named = msg.includes(`"${want.name}"`) || msg.startsWith(`${want.name} `) || msg.startsWith(`${want.name}:`);
        results.push({ interface: want.name, netns: want.netns, changes: [], notes: [], error: `${where}: ${named ? "" : `${ifaceSpec(want)}: `}${msg}${e instanceof UsageError ? "; skipped" : ""}` });
      } finally {
        enterNetns(null);
      }
    }
    const changed = results.some((r) => r.changes.length);
    if (args.json) printJson({ file: args.file, dryRun: dry, changed, interfaces: results });
    else {
      for (const r of results) {
        if (r.error) {
          console.error(`xdptool: ${r.error}`);
          continue;
        }
        const name = ifaceSpec({ name: r.interface, netns: r.netns });
        for (const n of r.notes) console.log(`${name}: ${n}`);
        if (!r.changes.length) console.log(`${name}: nothing to change`);
        for (const c of r.changes) console.log(`${name}: ${c}`);
      }
      if (!changed && !failed && !feedsFailed) console.log(`nothing to change: the host matches ${args.file}`);
      else if (dry) console.log("dry run: nothing changed");
    }
    if (failed) throw new OpError(`${failed} of ${wanted.length} interfaces not applied (see above)`);
    if (feedsFailed) throw new OpError(`${feedsFailed} feed${feedsFailed > 1 ? "s" : ""} not fetched (see above): their last rules stay; the rest of the file is applied`);
  },
});
