import { defineCommand } from "../cli/define.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "completion",
    description: `Print a shell completion script: commands, subcommands, options, interface names and lab sides.

  Generated from xdptool's own command definitions, so it always matches this binary.

  Examples:
    source <(xdptool completion bash)                       # this shell
    xdptool completion bash > /etc/bash_completion.d/xdptool
    xdptool completion zsh > "\${fpath[1]}/_xdptool"        # zsh, through bashcompinit
    xdptool completion fish > ~/.config/fish/completions/xdptool.fish`,
  },
  args: {
    shell: { type: "positional", required: true, description: "bash, zsh or fish" },
  },
  async run({ args }) {
    if (!["bash", "zsh", "fish"].includes(args.shell)) throw new UsageError(`completion for bash, zsh or fish, not "${args.shell}"`);
    const { commandTree, bashScript, fishScript } = await import("../cli/completion.ts");
    const { root } = await import("./index.ts");
    const tree = await commandTree(await root());
    const { writeAll } = await import("../table.ts");
    if (args.shell === "fish") return writeAll(fishScript(tree));
    // zsh reads bash completions through its bashcompinit layer.
    const pre = args.shell === "zsh" ? "#compdef xdptool\nautoload -U +X bashcompinit && bashcompinit\n" : "";
    writeAll(pre + bashScript(tree));
  },
});
