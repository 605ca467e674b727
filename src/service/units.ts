// units.ts — the systemd units `xdptool service install` writes: xdptool.service applies the
// configuration once at boot, xdptool-refresh.timer runs xdptool-refresh.service (apply again)
// at an interval, so feeds are fetched anew and the host is brought back to the file.
//
// Ordering (docs/10-config.md): the XDP programs must be on the interfaces before the network is
// configured and traffic is accepted, so the service runs Before=network-pre.target (and pulls it
// in with Wants=, as a unit that must run before the network is set up does; see
// systemd.special(7)). It must run after the interfaces exist: for each interface of this
// namespace named in the file, After= and Wants= its sys-subsystem-net-devices-NAME.device, the
// unit udev starts when the device appears. Waiting for specific devices, not for
// systemd-udev-settle.service (deprecated, and it waits for every device of the machine).
// Interfaces in named namespaces are made by other services later; apply reports them missing
// (exit 1) and the refresh timer applies them once they exist.

export const SERVICE = "xdptool.service";
export const REFRESH_SERVICE = "xdptool-refresh.service";
export const REFRESH_TIMER = "xdptool-refresh.timer";
export const METRICS_SERVICE = "xdptool-metrics.service";
export const DEFAULT_UNIT_DIR = "/etc/systemd/system";
export const DEFAULT_CONFIG = "/etc/xdptool/xdptool.toml";

/** A word of ExecStart= quoted when it needs to be (systemd.syntax: C-style double quotes). */
function execWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A device unit name for an interface: systemd-escape --path /sys/subsystem/net/devices/NAME. */
export function deviceUnit(ifname: string): string {
  const esc = ifname.replace(/[^A-Za-z0-9:_.]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`).replace(/^\./, "\\x2e");
  return `sys-subsystem-net-devices-${esc}.device`;
}

export interface UnitOptions {
  /** How to run xdptool: the binary (or bun and main.ts). */
  argv: string[];
  config: string;
  /** Interfaces of this namespace the configuration names (waited for). */
  devices: string[];
  /** Seconds between refreshes. */
  refresh: number;
  /** [HOST]:PORT of the Prometheus endpoint (xdptool-metrics.service), if wanted. */
  metrics?: string;
}

export function units(o: UnitOptions): Map<string, string> {
  const exec = [...o.argv, "apply", o.config].map(execWord).join(" ");
  const devices = o.devices.map(deviceUnit).join(" ");
  const wait = devices ? [`Wants=${devices}`, `After=${devices}`] : [];
  return new Map([
    [SERVICE, `# Written by \`xdptool service install\`; \`xdptool service uninstall\` removes it.
[Unit]
Description=xdptool: apply ${o.config} (XDP blacklist, DNS responder) before the network comes up
Documentation=man:xdptool(8)
DefaultDependencies=no
${[...wait, "Wants=network-pre.target", "Before=network-pre.target shutdown.target", "Conflicts=shutdown.target", `ConditionPathExists=${o.config}`].join("\n")}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${exec}

[Install]
WantedBy=multi-user.target
`],
    [REFRESH_SERVICE, `# Written by \`xdptool service install\`: run by ${REFRESH_TIMER}.
[Unit]
Description=xdptool: apply ${o.config} again (feeds refreshed, drift undone)
Documentation=man:xdptool(8)
After=${SERVICE}
ConditionPathExists=${o.config}

[Service]
Type=oneshot
ExecStart=${exec}
`],
    [REFRESH_TIMER, `# Written by \`xdptool service install\`.
[Unit]
Description=xdptool: apply ${o.config} every ${o.refresh}s

[Timer]
OnBootSec=${o.refresh}s
OnUnitActiveSec=${o.refresh}s
RandomizedDelaySec=${Math.min(300, Math.ceil(o.refresh / 10))}s

[Install]
WantedBy=timers.target
`],
    ...(o.metrics ? [[METRICS_SERVICE, `# Written by \`xdptool service install --metrics\`.
[Unit]
Description=xdptool: Prometheus metrics of every interface on ${o.metrics}
Documentation=man:xdptool(8)
After=${SERVICE}

[Service]
ExecStart=${[...o.argv, "stats", "--prometheus", o.metrics].map(execWord).join(" ")}
Restart=on-failure
RestartSec=5s

[Install]
WantedBy=multi-user.target
`] as [string, string]] : []),
  ]);
}
