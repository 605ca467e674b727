import { defineCommand } from "../../cli/define.ts";
import { UsageError } from "../../errors.ts";
import { labArgs, labName } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "exec",
    description: `Run a command inside the lab's generator or DUT namespace (exit status is the command's).

  Examples:
    xdptool lab exec gen -- ping -c 3 198.18.0.2
    xdptool lab exec dut -- tcpdump -ni xl-dut -c 5`,
  },
  args: {
    side: { type: "positional", required: true, description: "gen or dut" },
    ...labArgs,
  },
  async run({ args, rawArgs }) {
    if (args.side !== "gen" && args.side !== "dut") throw new UsageError(`side must be gen or dut, not "${args.side}"`);
    const dash = rawArgs.indexOf("--");
    const cmd = dash >= 0 ? rawArgs.slice(dash + 1) : [];
    if (cmd.length === 0) throw new UsageError("no command given: put it after --, e.g. xdptool lab exec gen -- ping 198.18.0.2");
    const { labConfig, labIsUp } = await import("../../lab/setup.ts");
    const lab = labConfig(labName(args));
    if (!labIsUp(lab)) throw new UsageError(`lab ${lab.name} is not up (xdptool lab up)`);
    const ns = args.side === "gen" ? lab.gen.ns : lab.dut.ns;
    const p = Bun.spawnSync(["ip", "netns", "exec", ns, ...cmd], { stdio: ["inherit", "inherit", "inherit"] });
    process.exitCode = p.exitCode ?? 1;
  },
});
