// tools.ts — the programs xdptool runs instead of carrying: iproute2's `ip` for the lab (namespaces
// and veth pairs), and the demo's peers (dig, tshark). Every feature command needs none. A missing
// one is named, with its Debian package, in one line — never a stack trace from spawn.
import { which } from "bun";
import { OpError } from "./errors.ts";

/** The path of `name`, or an OpError saying what needs it and which package provides it. */
export function needTool(name: string, pkg: string, forWhat: string): string {
  const path = which(name);
  if (!path) throw new OpError(`${forWhat} needs \`${name}\` (Debian/Ubuntu package ${pkg}), which is not installed (not found in PATH)`);
  return path;
}

/** Whether an optional peer is installed. */
export function haveTool(name: string): boolean {
  return which(name) !== null;
}
