import { defineCommand, interfaceArg, jsonArg } from "../../cli/define.ts";
import { printJson } from "../../table.ts";

export default defineCommand({
  meta: {
    name: "disable",
    description: `Take the DNS responder off an interface (detach it and remove its pins).

  Examples:
    xdptool responder disable xl-dut`,
  },
  args: {
    ...interfaceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool responder disable");
    const { resolveIface } = await import("../../ffi/netns.ts");
    const { disable } = await import("../../responder/lifecycle.ts");
    const r = disable(resolveIface(args.interface));
    if (args.json) return printJson(r);
    console.log(`${r.interface}: responder disabled${r.detached ? ` (program ${r.progId} detached: no feature left on)` : " (other features keep running)"}`);
  },
});
