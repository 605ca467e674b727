import { defineCommand, durationArg } from "../../cli/define.ts";
import { UsageError } from "../../errors.ts";
import { unitDirArg, systemctl } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "install",
    description: `Write the systemd units that apply the configuration at boot and refresh it on a timer.

  The service (xdptool.service) runs \`xdptool apply CONFIG\` once at boot: after the interfaces
  the file names exist (their udev devices), before network-pre.target (so the programs are in
  place before any network is configured). A timer (xdptool-refresh.timer) runs it again every --refresh (default: the
  shortest feed refresh in the file, else 1h): feeds are fetched anew, and drift (a rule added
  by hand) is undone. The units run this very binary. In the system's unit directory, when systemd
  runs the host, the units are enabled (not started: \`systemctl start xdptool\` applies now).
  docs/10-config.md explains the ordering.

  Examples:
    xdptool service install
    xdptool service install --config /srv/xdptool.toml --refresh 30m
    xdptool service install --metrics 127.0.0.1:9435     # and a Prometheus endpoint
    xdptool service install --unit-dir /tmp/units && systemd-analyze verify /tmp/units/xdptool.service`,
  },
  args: {
    config: { type: "string", description: "The configuration the service applies (default /etc/xdptool/xdptool.toml)" },
    ...unitDirArg,
    refresh: { type: "string", description: "How often to apply again: 30m, 6h, 1d (default: the shortest feed refresh, else 1h)" },
    metrics: { type: "string", description: "Also serve Prometheus metrics of every interface on [HOST]:PORT (xdptool-metrics.service runs stats --prometheus)" },
  },
  async run({ args }) {
    const { resolve, join } = await import("node:path");
    const { existsSync, mkdirSync, writeFileSync, renameSync } = await import("node:fs");
    const { DEFAULT_CONFIG, DEFAULT_UNIT_DIR, SERVICE, REFRESH_TIMER, METRICS_SERVICE, units } = await import("../../service/units.ts");
    const metrics = args.metrics === undefined ? undefined : String(args.metrics);
    if (metrics !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[\w.-]*):\d{1,5}$/.test(metrics)) throw new UsageError(`--metrics takes [HOST]:PORT, e.g. 127.0.0.1:9435, not "${metrics}"`);
    const config = resolve(args.config ?? DEFAULT_CONFIG);
    const unitDir = resolve(args["unit-dir"] ?? DEFAULT_UNIT_DIR);
    let refresh = args.refresh === undefined ? undefined : durationArg("refresh", args.refresh);
    // The file, when it is there already, is checked now (a boot is a bad time to find a typo), and
    // tells which devices to wait for and how often its feeds want fetching.
    let devices: string[] = [];
    if (existsSync(config)) {
      const { loadConfig } = await import("../../config/model.ts");
      const cfg = loadConfig(config);
      devices = cfg.interfaces.filter((i) => i.netns === null).map((i) => i.name);
      const feeds = cfg.interfaces.flatMap((i) => i.blacklist?.feeds ?? []).map((f) => f.refresh);
      refresh ??= feeds.length ? Math.min(...feeds) : undefined;
    } else console.error(`xdptool: note: ${config} does not exist yet: write it (xdptool save ${config}) before the next boot, then install again to wait for its interfaces`);
    const { selfArgv } = await import("../../self.ts");
    const argv = selfArgv().map((a) => resolve(a));
    mkdirSync(unitDir, { recursive: true });
    for (const [name, text] of units({ argv, config, devices, refresh: refresh ?? 3600, metrics })) {
      const path = join(unitDir, name);
      writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
      renameSync(`${path}.tmp`, path);
    }
    const enabled = systemctl(unitDir, DEFAULT_UNIT_DIR, "daemon-reload") && systemctl(unitDir, DEFAULT_UNIT_DIR, "enable", SERVICE, REFRESH_TIMER, ...(metrics ? [METRICS_SERVICE] : []));
    console.log(`wrote ${SERVICE}, ${REFRESH_TIMER} and its service to ${unitDir}: \`${argv.join(" ")} apply ${config}\` at boot${devices.length ? ` (after ${devices.join(", ")} exist)` : ""}, again every ${refresh ?? 3600}s${metrics ? `; ${METRICS_SERVICE} serves metrics on ${metrics}` : ""}`);
    if (enabled) console.log(`enabled; \`systemctl start ${SERVICE}\` applies it now`);
    else console.log(`next: systemctl daemon-reload && systemctl enable ${SERVICE} ${REFRESH_TIMER}${metrics ? ` ${METRICS_SERVICE}` : ""}`);
  },
});
