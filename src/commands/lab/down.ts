import { defineCommand } from "../../cli/define.ts";
import { labArgs, labName } from "./_shared.ts";

export default defineCommand({
  meta: { name: "down", description: `Remove the lab's namespaces, interfaces and xdptool pins. Idempotent.

  Examples:
    xdptool lab down
    xdptool lab down --lab t2` },
  args: { ...labArgs },
  async run({ args }) {
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool lab down", ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    const { labConfig, labDown } = await import("../../lab/setup.ts");
    const lab = labConfig(labName(args));
    console.log(`lab ${lab.name}: ${labDown(lab) ? "removed" : "was not up"}`);
  },
});
