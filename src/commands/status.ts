import { defineCommand } from "citty";
import { jsonArg } from "../cli.ts";
import { printJson, table } from "../table.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: `Show the XDP program on every interface: name, id, tag, mode and owner.

  Interfaces of this namespace are always listed; those in named namespaces (the lab's) when
  they run a program, or all of them with --all. OWNER is "xdptool" when the program is held by
  xdptool's pinned link, "foreign" when another tool attached it (ip, xdp-loader, …).

  Examples:
    xdptool status
    xdptool status --json | jq '.[] | select(.owner == "xdptool")'`,
  },
  args: {
    all: { type: "boolean", description: "Also list interfaces without a program in named namespaces" },
    ...jsonArg,
  },
  async run({ args }) {
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool status");
    const { inventory } = await import("../inventory.ts");
    const rows = inventory({ all: args.all });
    if (args.json) return printJson(rows);
    console.log(
      table(
        ["INTERFACE", "NETNS", "MODE", "PROGRAM", "ID", "TAG", "OWNER", "FEATURES"],
        rows.map((r) => [r.interface, r.netns ?? "-", r.mode ?? "-", r.program ?? "-", r.id ?? "-", r.tag ?? "-", r.owner ?? "-", r.features.join(",") || "-"]),
      ),
    );
  },
});
