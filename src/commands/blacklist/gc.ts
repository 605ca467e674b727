import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "gc",
    description: `Free what no packet can match any more: expired rules and replaced rule sets.

  Expired rules are those past their TTL; a replaced set is the one an \`import\` or \`flush\`
  switched away from.

  The program already ignores both (expiry is judged per packet; a replaced set is never read
  after the switch), so this only returns memory. \`import\` and \`flush\` start it in the
  background themselves; \`list\`, \`del\` and \`import\` also remove expired rules.

  Examples:
    xdptool blacklist gc
    xdptool blacklist gc -i xl-dut --json`,
  },
  args: {
    ...ifaceArg,
    ...jsonArg,
    quiet: { type: "boolean", description: "Print nothing (used when import starts it in the background)" },
  },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, gcExpired } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    if (args.quiet) {
      // In the background after an import: yield the CPU to anything more urgent.
      try { (await import("node:os")).setPriority(10); } catch { /* best effort */ }
    }
    const r = withBlacklist(ifname, (bl) => {
      const expired = gcExpired(bl);
      const replaced = bl.idsUsed(bl.cfg.gen ^ 1);
      const t = performance.now();
      bl.clear(bl.cfg.gen ^ 1); // also empties what an interrupted replace left behind
      return { expired, replaced, ms: Math.round(performance.now() - t) };
    });
    if (args.quiet) return;
    if (args.json) return printJson({ interface: ifname, ...r });
    console.log(`${ifname}: removed ${r.expired} expired rules; freed ${r.replaced} rules of a replaced set (${r.ms} ms)`);
  },
});
