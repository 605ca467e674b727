import { defineCommand, jsonArg } from "../cli/define.ts";
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
    xdptool status xl-dut                 # one interface: features, their configuration, counters
    xdptool status --json | jq '.[] | select(.owner == "xdptool")'`,
  },
  args: {
    interface: { type: "positional", required: false, description: "Show one interface in detail: features, their configuration, counters" },
    all: { type: "boolean", description: "Also list interfaces without a program in named namespaces" },
    ...jsonArg,
  },
  async run({ args }) {
    // One round of module loading for both (each awaited import is one).
    const [{ requireCaps }, { inventory, ifaceStatus }] = await Promise.all([import("../privileges.ts"), import("../program/inventory.ts")]);
    requireCaps("xdptool status");
    if (args.interface) {
      const { resolveIface } = await import("../ffi/netns.ts");
      const { ifaceDetail } = await import("../program/detail.ts");
      const { summaries, ...d } = await ifaceDetail(ifaceStatus(resolveIface(args.interface)));
      if (args.json) return printJson(d);
      console.log(`${d.interface}${d.netns ? ` (netns ${d.netns})` : ""}: ${d.program ? `${d.program} id ${d.id} tag ${d.tag}, ${d.mode} mode, ${d.owner}` : "no XDP program"}`);
      if (d.program) console.log(`features: ${d.features.join(", ") || "-"}`);
      for (const line of summaries) console.log(`  ${line}`);
      if (d.counters) {
        const c = d.counters;
        console.log(table(["VERDICT", "PACKETS", "BYTES"], (["pass", "drop", "tx", "aborted", "redirect"] as const).map((k) => [k, c[k].packets, c[k].bytes])));
      }
      return;
    }
    const rows = inventory({ all: args.all });
    if (args.json) return printJson(rows);
    console.log(
      table(
        ["INTERFACE", "NETNS", "MODE", "PROGRAM", "ID", "TAG", "OWNER", "FEATURES"],
        rows.map((r) => [r.interface, r.netns ?? "-", r.mode ?? "-", r.program ?? "-", r.id ?? "-", r.tag ?? "-", r.owner ?? "-", r.features.join(",") || "-"]),
      ),
    );
    await sayLeftPins(new Set(rows.filter((r) => r.owner === "xdptool").map((r) => r.interface)));
  },
});

/** Pins (rules, settings, counters) that no program of ours uses: of an interface deleted under its
 *  program, or detached from outside. Said on stderr, after the table: the listing stays as it was. */
async function sayLeftPins(running: Set<string>): Promise<void> {
  const { pinnedInterfaces } = await import("../ffi/bpffs.ts");
  const left = pinnedInterfaces().filter((n) => !running.has(n));
  if (!left.length) return;
  const { ifaceExists } = await import("../ffi/netns.ts");
  const gone = left.filter((n) => !ifaceExists(n));
  const idle = left.filter((n) => !gone.includes(n));
  if (gone.length) console.error(`xdptool: pins of interfaces that are gone: ${gone.join(", ")} (a new interface of the name adopts them; xdptool unload NAME removes them)`);
  if (idle.length) console.error(`xdptool: pins with no program attached: ${idle.join(", ")} (the next load or feature command picks them up; xdptool unload NAME removes them)`);
}
