import { defineCommand } from "citty";
import { forceArg, intArg, jsonArg } from "../../cli.ts";
import { UsageError } from "../../errors.ts";
import { printJson } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "attach",
    description: `Attach the blacklist program (statistics + blacklist) to an interface.

  Rules live in maps pinned under /sys/fs/bpf/xdptool/IFACE/ and survive xdptool's exit;
  attaching again keeps them (unless --max-rules changes the size). --max-rules sizes the
  per-rule tables (two generations, per-CPU counters, preallocated /32 hashes: roughly
  250 bytes + 64 bytes × CPUs per rule of capacity, taken when attached).

  Examples:
    xdptool blacklist attach xl-dut
    xdptool blacklist attach eth0 --max-rules 2000000
    xdptool unload xl-dut                       # detach it, rules and all`,
  },
  args: {
    interface: { type: "positional", required: true, description: "Interface name, or NETNS/IFNAME" },
    "max-rules": { type: "string", description: "Most rules it can hold (default 1200000, or the current size when attached already)" },
    mode: { type: "string", description: "native, skb or auto", default: "auto" },
    ...forceArg,
    ...jsonArg,
  },
  async run({ args }) {
    if (!["auto", "native", "skb"].includes(args.mode)) throw new UsageError(`--mode must be auto, native or skb, not "${args.mode}"`);
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist attach");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { attach } = await import("../../attach.ts");
    const { embeddedObject } = await import("../../embedded.ts");
    const { sizeMaps } = await import("../../blacklist/maps.ts");
    const iface = resolveIface(args.interface);
    // Attaching again keeps the pinned maps, which only works at the same size: a partial reuse
    // would strand the rules. Resizing is export, unload, attach, import.
    const { existsSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { pinDir } = await import("../../ffi/bpffs.ts");
    const { BpfMap } = await import("../../ffi/map.ts");
    const pin = join(pinDir(iface.name), "bl_rules");
    let current: number | undefined;
    if (existsSync(pin)) {
      const m = BpfMap.pinned(pin);
      current = m.info.maxEntries / 2 - 1;
      m.close();
    }
    const max = args["max-rules"] !== undefined ? intArg("max-rules", args["max-rules"], 16, 16_000_000) : (current ?? 1_200_000);
    if (current !== undefined && max !== current) {
      throw new UsageError(`the blacklist on ${iface.name} holds up to ${current} rules; to resize: blacklist export > rules.txt, unload ${iface.name}, blacklist attach ${iface.name} --max-rules ${max}, blacklist import rules.txt`);
    }
    const r = attach({
      iface, image: embeddedObject("blacklist")!, objectName: "blacklist", mode: args.mode as "auto", force: args.force,
      configure: (obj) => sizeMaps(obj, max),
    });
    const { withBlacklist } = await import("../../blacklist/store.ts");
    const capacity = withBlacklist(iface.name, (bl) => bl.capacity());
    if (args.json) return printJson({ interface: iface.name, netns: iface.netns, capacity, ...r });
    if (r.note) console.error(`xdptool: note: ${r.note}`);
    console.log(`${iface.name}: blacklist attached (id ${r.progId}, ${r.mode} mode, room for ${capacity} rules${r.reusedMaps.includes("bl_cfg") ? ", existing rules kept" : ""}); pinned in ${r.pinDir}`);
  },
});
