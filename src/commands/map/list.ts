import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson, table } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "list",
    description: `Every BPF map on the host: id, type, key/value size, max entries, flags, pin path, owner program.

  Examples:
    xdptool map list
    xdptool map list --json | jq '.[] | select(.pins | length > 0)'`,
  },
  args: { ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool map list");
    const { listMaps } = await import("../../maps/list.ts");
    const rows = listMaps();
    if (args.json) return printJson(rows);
    console.log(
      table(
        ["ID", "TYPE", "NAME", "KEY", "VALUE", "ENTRIES", "FLAGS", "PROGRAM", "PINNED"],
        rows.map((r) => [r.id, r.type, r.name || "-", r.keySize, r.valueSize, r.maxEntries, `0x${r.flags.toString(16)}`, r.programs.map((p) => `${p.name}(${p.id})`).join(",") || "-", r.pins.join(",") || "-"]),
      ),
    );
  },
});
