import type { CommandDef } from "citty";
import { defineCommand } from "../../cli/define.ts";

const sub = (load: () => Promise<{ default: CommandDef }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: {
    name: "lab",
    description: `The test bed: namespaces <lab>-gen and <lab>-dut joined by a veth pair (lab "xl" by default).

  Examples:
    xdptool lab up                       # create it (idempotent); prints interfaces and addresses
    xdptool lab traffic --count 1000000  # 1M UDP frames from xl-gen to xl-dut at full speed
    xdptool lab exec gen -- ping -c1 198.18.0.2
    xdptool lab demo                     # a guided tour of what xdptool does
    xdptool lab down`,
  },
  subCommands: {
    up: sub(() => import("./up.ts")),
    down: sub(() => import("./down.ts")),
    status: sub(() => import("./status.ts")),
    exec: sub(() => import("./exec.ts")),
    traffic: sub(() => import("./traffic.ts")),
    demo: sub(() => import("./demo.ts")),
  },
});
