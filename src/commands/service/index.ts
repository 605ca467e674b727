import type { CommandDef } from "citty";
import { defineCommand } from "../../cli/define.ts";

const sub = (load: () => Promise<{ default: CommandDef }>) => () => load().then((m) => m.default);

export default defineCommand({
  meta: {
    name: "service",
    description: `Run xdptool as a systemd service: apply the configuration at boot, before the network comes up.

  Examples:
    xdptool save /etc/xdptool/xdptool.toml && xdptool service install
    xdptool service install --config /srv/xdptool.toml --refresh 1h
    xdptool service uninstall`,
  },
  subCommands: {
    install: sub(() => import("./install.ts")),
    uninstall: sub(() => import("./uninstall.ts")),
  },
});
