import { defineCommand, jsonArg } from "../../cli/define.ts";
import { ifaceArg, ruleArgs } from "./_shared.ts";
import { runAdd } from "./_add.ts";

export default defineCommand({
  meta: {
    name: "allow",
    description: `Add an allow rule: an exception that always passes, whatever deny rules match.

  Same syntax as \`blacklist add\`. Use it for hosts that must never be cut off (management).

  Examples:
    xdptool blacklist allow 198.18.7.10              # inside a denied 198.18.7.0/24
    xdptool blacklist allow 198.18.7.0/24 port 22/tcp
    xdptool blacklist allow mac 02:78:74:00:00:01`,
  },
  args: { ...ifaceArg, ...ruleArgs, ...jsonArg },
  run: ({ args }) => runAdd(args, true),
});
