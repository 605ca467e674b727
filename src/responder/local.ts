// local.ts — which destination addresses are this host's, for the responder (responder_select.h answers
// only queries to them). The kernel's RTN_LOCAL routes are the truth: interface addresses, VIPs
// on lo, AnyIP prefixes. `enable` writes them once; `responder watch`, started by enable and
// running as long as the responder is on, rewrites them whenever the kernel's routes change.
//
// Why not bpf_fib_lookup from the program: on a host that does not forward (any DNS server that
// is not a router) it cannot tell a local address from any other, and with forwarding on it lumps
// local addresses with broadcast and unroutable ones; it also costs more than this (docs/A-measurements.md).
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { Netlink } from "../ffi/netlink.ts";
import { enterNetns, type Iface } from "../ffi/netns.ts";
import { lockFile, tryLock } from "../ffi/lock.ts";
import { PollSet } from "../ffi/poll.ts";
import { selfArgv } from "../self.ts";
import { enabledFeatures } from "../combined/bits.ts";
import { hasResponder, writeLocal } from "./maps.ts";

/** The interface's MAC and the host's local prefixes, read in the interface's namespace. */
export function hostView(iface: Iface): { mac: Uint8Array; local: ReturnType<Netlink["localPrefixes"]> } {
  enterNetns(iface.netns);
  const nl = Netlink.open();
  try {
    return { mac: nl.mac(iface.ifindex), local: nl.localPrefixes() };
  } finally {
    nl.close();
  }
}

const lockPath = (ifname: string) => lockFile(`responder-watch-${ifname}`);
const spec = (iface: Iface) => (iface.netns ? `${iface.netns}/${iface.name}` : iface.name);

/** Start `xdptool responder watch` for the interface in the background (no-op when one runs). */
export function startWatcher(iface: Iface): void {
  // One is running (it holds the lock): it follows the new configuration's maps as they are.
  const free = tryLock(lockPath(iface.name));
  if (free === null) return;
  closeSync(free);
  // The CLI itself, also when enable() runs inside another script (the bench).
  const [cmd, ...pre] = process.argv[1]?.startsWith("/$bunfs") ? selfArgv() : [process.execPath, join(import.meta.dir, "../main.ts")];
  // A child starts in the namespace of the thread that forks it: from ours, it would not find the
  // namespace by name (the one it starts in is left out of the list).
  enterNetns(null);
  const out = openSync("/dev/null", "r+");
  try {
    spawn(cmd, [...pre, "responder", "watch", spec(iface)], { detached: true, stdio: [out, out, out] }).unref();
  } finally {
    closeSync(out);
  }
}

const on = (ifname: string) => hasResponder(ifname) && enabledFeatures(ifname).includes("responder");

/**
 * Keep resp_local4/6 equal to the kernel's local routes until the responder is switched off.
 * One watcher per interface (a lock); a second one waits up to 3 s for the first to leave (a
 * disable followed by an enable), then leaves itself.
 */
export async function watch(iface: Iface): Promise<void> {
  let lock: number | null = null;
  for (let i = 0; i < 30 && lock === null; i++) {
    lock = tryLock(lockPath(iface.name));
    if (lock === null) await Bun.sleep(100);
  }
  if (lock === null) return; // another watcher serves this interface
  enterNetns(iface.netns);
  const nl = Netlink.open(true); // subscribed before the first read: no change falls in between
  const poll = new PollSet([nl.fd]);
  try {
    writeLocal(iface.name, nl.localPrefixes());
    while (on(iface.name)) {
      if (poll.wait(1000) > 0 && nl.drain()) {
        await Bun.sleep(20); // an address brings several route messages: read the table once
        nl.drain();
        if (on(iface.name)) writeLocal(iface.name, nl.localPrefixes());
      }
    }
  } finally {
    nl.close();
    closeSync(lock);
  }
}
