import { defineCommand } from "../../cli/define.ts";
import { OpError } from "../../errors.ts";
import { unitDirArg, systemctl } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "uninstall",
    description: `Remove the units \`service install\` wrote (disabled and stopped first, when systemd runs the host).

  What runs on the interfaces stays until the next boot (\`xdptool unload IFACE\` takes it off now);
  the configuration file stays too.

  Examples:
    xdptool service uninstall
    xdptool service uninstall --unit-dir /tmp/units`,
  },
  args: { ...unitDirArg },
  async run({ args }) {
    const { resolve, join } = await import("node:path");
    const { existsSync, unlinkSync } = await import("node:fs");
    const { DEFAULT_UNIT_DIR, SERVICE, REFRESH_SERVICE, REFRESH_TIMER, METRICS_SERVICE } = await import("../../service/units.ts");
    const unitDir = resolve(args["unit-dir"] ?? DEFAULT_UNIT_DIR);
    const names = [SERVICE, REFRESH_SERVICE, REFRESH_TIMER, METRICS_SERVICE].filter((n) => existsSync(join(unitDir, n)));
    if (!names.length) throw new OpError(`no xdptool units in ${unitDir} (nothing to uninstall)`);
    // Stopping the oneshot service only marks it inactive: the programs stay attached.
    systemctl(unitDir, DEFAULT_UNIT_DIR, "disable", "--now", REFRESH_TIMER, SERVICE, ...(names.includes(METRICS_SERVICE) ? [METRICS_SERVICE] : []));
    for (const n of names) unlinkSync(join(unitDir, n));
    systemctl(unitDir, DEFAULT_UNIT_DIR, "daemon-reload");
    console.log(`removed ${names.join(", ")} from ${unitDir}; what runs on the interfaces stays until the next boot`);
  },
});
