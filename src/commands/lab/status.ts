import { defineCommand, jsonArg } from "../../cli/define.ts";
import { printJson, table } from "../../table.ts";
import { labArgs, labName } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "status",
    description: `Show whether the lab is up and what runs on its interfaces.

  Exit status 1 when the lab is down; with --json, 0 and "up": false.

  Examples:
    xdptool lab status
    xdptool lab status --json | jq '.ends[] | {ifname, program: .xdp.program}'`,
  },
  args: { ...labArgs, ...jsonArg },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool lab status");
    const { labConfig, labIsUp } = await import("../../lab/setup.ts");
    const lab = labConfig(labName(args));
    const up = labIsUp(lab);
    const ends = [];
    if (up) {
      const { resolveIface } = await import("../../ffi/netns.ts");
      const { ifaceStatus } = await import("../../program/inventory.ts");
      for (const [role, end] of [["generator", lab.gen], ["device under test", lab.dut]] as const) {
        ends.push({ role, ...end, xdp: ifaceStatus(resolveIface(`${end.ns}/${end.ifname}`)) });
      }
    }
    if (args.json) return printJson({ name: lab.name, up, ends });
    if (!up) {
      console.log(`lab ${lab.name}: down (xdptool lab up${labName(args) ? ` --lab ${labName(args)}` : ""} creates it)`);
      process.exitCode = 1;
      return;
    }
    console.log(`lab ${lab.name}: up`);
    console.log(table(["ROLE", "NETNS", "INTERFACE", "IPV4", "IPV6", "XDP PROGRAM", "MODE", "OWNER"],
      ends.map((e) => [e.role, e.ns, e.ifname, e.ipv4, e.ipv6, e.xdp.program ?? "-", e.xdp.mode ?? "-", e.xdp.owner ?? "-"])));
  },
});
