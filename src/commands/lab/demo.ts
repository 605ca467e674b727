import { defineCommand } from "../../cli/define.ts";
import { labArgs, labName } from "./_shared.ts";

// The README's first command ends here: a short tour that shows each capability working on the
// lab, printing what happened. Each step runs the real binary's code paths.
export default defineCommand({
  meta: { name: "demo", description: `Build the lab and show xdptool at work: load, traffic, counters, unload.

  Examples:
    xdptool lab demo
    xdptool lab demo --keep              # leave the lab up to look around` },
  args: { ...labArgs, keep: { type: "boolean", description: "Leave the lab up afterwards" } },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool lab demo", ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    const { runDemo } = await import("../../lab/demo.ts");
    await runDemo(labName(args), args.keep);
  },
});
