import { defineCommand } from "../cli/define.ts";
import { OpError, UsageError } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "save",
    description: `Write what xdptool runs on this host as a configuration file that \`xdptool apply\` restores.

  One [[interface]] per interface running xdptool's blacklist or responder,
  in this namespace and in named ones: its XDP mode, the blacklist (size,
  rules, rules that expire with the time they end) and the DNS responder's
  whole selection, read back from the kernel's maps. An interface named with
  --interface is written even with nothing on (applied, that switches both
  off). Up to 1000 permanent rules are written inline; more go to a rule file
  beside FILE (FILE's name, the interface, .rules) in \`blacklist export\`
  syntax; to standard output everything is inline. Not saved: the sampler (a
  capture lives as long as \`xdptool sample\`) and counters. docs/10-config.md
  describes the file.

  Examples:
    xdptool save                                  # to standard output
    xdptool save /etc/xdptool/xdptool.toml        # what the boot service applies (xdptool service install)
    xdptool save lab.toml --interface xl-dut      # only some interfaces (comma-separated)`,
  },
  args: {
    file: { type: "positional", required: false, description: "Where to write it (default: standard output)" },
    interface: { type: "string", alias: "i", description: "Only these interfaces (comma-separated names, or NETNS/IFNAME)" },
  },
  async run({ args }) {
    const only = args.interface === undefined ? null : String(args.interface).split(",").map((s) => s.trim()).filter(Boolean);
    if (only && !only.length) throw new UsageError("--interface: name at least one interface");
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool save");
    const { inventory } = await import("../program/inventory.ts");
    const { readLive } = await import("../config/live.ts");
    const { configText } = await import("../config/write.ts");
    const { COMBINED } = await import("../combined/bits.ts");
    const { enterNetns } = await import("../ffi/netns.ts");
    const picked = (name: string, netns: string | null) => !only || only.includes(name) || (netns !== null && only.includes(`${netns}/${name}`));
    const all = inventory().filter((s) => picked(s.interface, s.netns));
    if (only) {
      const missing = only.filter((o) => !all.some((s) => s.interface === o || `${s.netns}/${s.interface}` === o));
      if (missing.length) throw new UsageError(`--interface: no interface ${missing.join(", ")} (xdptool status lists them)`);
    }
    const notes: string[] = [];
    const live = [];
    for (const s of all) {
      const iface = { name: s.interface, ifindex: s.ifindex, netns: s.netns };
      const where = s.netns ? `${s.interface} (netns ${s.netns})` : s.interface;
      const features = s.owner === "xdptool" && s.program === COMBINED && s.features.some((f) => f === "blacklist" || f === "responder");
      if (s.owner === "xdptool" && s.program !== COMBINED) notes.push(`${where} runs xdptool's "${s.program}" program: not saved (save holds the blacklist and the responder)`);
      else if (s.owner === "xdptool" && !features) notes.push(`${where}: only a sampler runs: not saved`);
      // An interface asked for by name is written even with nothing on: applied, it switches both off.
      if (features || only) live.push(readLive(iface));
    }
    enterNetns(null);
    const { config, ruleFiles } = configText(live, notes, args.file ?? null);
    if (!args.file) return (await import("../table.ts")).writeAll(config);
    const { writeFileSync, renameSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    // Each file whole or not at all: written aside, then renamed over the old one.
    const put = (path: string, text: string) => {
      try {
        writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
        renameSync(`${path}.tmp`, path);
      } catch (e) {
        throw new OpError(`write ${path}: ${(e as { code?: string }).code ?? (e as Error).message}`);
      }
    };
    for (const [name, text] of ruleFiles) put(join(dirname(args.file), name), text);
    put(args.file, config);
    const rules = live.reduce((n, l) => n + (l.features.includes("blacklist") ? l.blacklist?.rules.length ?? 0 : 0), 0);
    console.log(`saved ${live.length} interface${live.length === 1 ? "" : "s"} (${rules} rules${ruleFiles.size ? `, ${ruleFiles.size} rule files beside it` : ""}) to ${args.file}`);
  },
});
