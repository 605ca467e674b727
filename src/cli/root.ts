// root.ts — xdptool itself as a command: its name, version and subcommands (src/commands/).
import { defineCommand } from "./define.ts";
import { commands } from "../commands/index.ts";
import { VERSION } from "../version.ts";

export const main = defineCommand({
  meta: {
    name: "xdptool",
    version: VERSION,
    description: `Load, inspect and run XDP programs: stats, maps, blacklist, sampling, DNS responder, lab, benchmarks.

  Examples:
    xdptool lab up                       # the test bed: two namespaces
    xdptool blacklist attach xl-dut && xdptool blacklist add 198.18.7.0/24
    xdptool status                       # what runs where
    xdptool help blacklist add           # any command's help`,
  },
  args: {
    version: { type: "boolean", description: "Print xdptool's, libbpf's and the kernel's versions" },
  },
  subCommands: commands,
});
