// _shared.ts — what install and uninstall share: where the units go, and systemctl when it runs.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { OpError } from "../../errors.ts";

export const unitDirArg = {
  "unit-dir": { type: "string", description: "Directory of the units (default /etc/systemd/system; another one: written there, systemctl left alone)" },
} as const;

/** systemctl, only for the system's own unit directory and when systemd runs the host. */
export function systemctl(unitDir: string, defaultDir: string, ...args: string[]): boolean {
  if (unitDir !== defaultDir || !existsSync("/run/systemd/system")) return false;
  const r = spawnSync("systemctl", args, { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new OpError(`systemctl ${args.join(" ")}: ${String(r.stderr ?? r.error?.message ?? "").trim().split("\n")[0]}`);
  return true;
}
