import { defineCommand, forceArg, intArg, interfaceArg, jsonArg, xdpMode, xdpModeArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "attach",
    description: `Switch the blacklist on for an interface (attaching xdptool's combined program if needed).

  Rules live in maps pinned under /sys/fs/bpf/xdptool/IFACE/ and survive xdptool's exit. The
  blacklist is a stage of the same program as the DNS responder and the sampler: switching it on
  or off never detaches them. --max-rules sizes the tables: rule records for two generations
  (64 bytes per rule of capacity, taken when attached) and, once IPv4 rules arrive, one IPv4
  table of ~53 bytes per rule of capacity (two while an import swaps them). Counters are shared
  by all CPUs: the memory does not grow with them. \`blacklist status\` shows what is taken. A combined program attached for another feature first brings a blacklist
  of 65536 rules; \`blacklist attach\` grows it to the default while it is unused. A blacklist
  that is on keeps its size unless --max-rules says otherwise, and one with rules cannot be
  resized (export, flush, attach --max-rules N, import).

  Examples:
    xdptool blacklist attach xl-dut                     # room for 1200000 rules
    xdptool blacklist attach eth0 --max-rules 2000000
    xdptool blacklist detach xl-dut                     # rules go with it`,
  },
  args: {
    ...interfaceArg,
    "max-rules": { type: "string", description: "Most rules it can hold (default 1200000; a blacklist that is on or holds rules keeps its size)" },
    ...xdpModeArg,
    ...forceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const mode = xdpMode(args.mode);
    const max = args["max-rules"] !== undefined ? intArg("max-rules", args["max-rules"], 16, 16_000_000) : undefined;
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist attach");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { ensureCombined, withProgramLock } = await import("../../combined/program.ts");
    const { setFeature } = await import("../../combined/bits.ts");
    const { attachSize } = await import("../../blacklist/stage.ts");
    const { withBlacklist } = await import("../../blacklist/store.ts");
    const iface = resolveIface(args.interface);
    const { r, capacity } = withProgramLock(iface.name, () => {
      const r = ensureCombined(iface, { mode, force: args.force, blacklistRules: attachSize(iface.name, max) });
      // Rules (if any were kept) are in place before the stage is switched on.
      const capacity = withBlacklist(iface.name, (bl) => bl.capacity());
      setFeature(iface.name, "blacklist", true);
      return { r, capacity };
    });
    if (args.json) return printJson({ interface: iface.name, netns: iface.netns, capacity, ...r });
    const was = r.replaced ? `, replacing xdptool's "${r.replaced}" program` : "";
    console.log(`${iface.name}: blacklist on (program id ${r.progId}, ${r.mode} mode${was}, room for ${capacity} rules)`);
  },
});
