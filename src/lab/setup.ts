// lab.ts — the test bed: two network namespaces joined by a veth pair.
//
//   netns <p>-gen                         netns <p>-dut
//   ┌──────────────────────┐              ┌──────────────────────┐
//   │ <p>-gen  (XDP: pass) │══ veth ══════│ <p>-dut  (device under test)
//   │ 198.18.0.1/24        │              │ 198.18.0.2/24        │
//   │ 2001:db8::1/64       │              │ 2001:db8::2/64       │
//   └──────────────────────┘              └──────────────────────┘
// <p> is "xl" unless --lab or XDPTOOL_LAB says otherwise (tests use their own lab).
// The generator end runs the `pass` program because veth only delivers XDP_TX'd frames (from
// `lab traffic` or the DNS responder) to an end that runs an XDP program.
import { writeFileSync } from "node:fs";
import { spawnSync } from "bun";
import { OpError, UsageError } from "../errors.ts";
import { needTool } from "../tools.ts";
import { enterNetns } from "../ffi/netns.ts";

/** iproute2's `ip`: the lab is namespaces and a veth pair, made the way an operator would. */
const ip = () => needTool("ip", "iproute2", "the lab");

export interface Lab {
  name: string;
  gen: { ns: string; ifname: string; mac: string; ipv4: string; ipv6: string };
  dut: { ns: string; ifname: string; mac: string; ipv4: string; ipv6: string };
}

export function labConfig(name = process.env.XDPTOOL_LAB || "xl"): Lab {
  if (!/^[a-z][a-z0-9]{0,9}$/.test(name)) throw new UsageError(`lab name "${name}" must be 1-10 lowercase letters or digits, starting with a letter`);
  const end = (role: string, n: number) => ({
    ns: `${name}-${role}`, ifname: `${name}-${role}`, mac: `02:78:74:00:00:0${n}`, ipv4: `198.18.0.${n}`, ipv6: `2001:db8::${n}`,
  });
  return { name, gen: end("gen", 1), dut: end("dut", 2) };
}

export function run(cmd: string[], what: string): string {
  const p = spawnSync(cmd, { stdin: "ignore" });
  if (p.exitCode !== 0) throw new OpError(`${what}: ${p.stderr.toString().trim() || `${cmd[0]} exited ${p.exitCode}`}`);
  return p.stdout.toString();
}

function nsExists(ns: string): boolean {
  return spawnSync([ip(), "netns", "list"]).stdout.toString().split("\n").some((l) => l.split(" ")[0] === ns);
}

function linkExists(ns: string, ifname: string): boolean {
  return spawnSync([ip(), "-n", ns, "link", "show", ifname], { stderr: "ignore" }).exitCode === 0;
}

export function labIsUp(lab: Lab): boolean {
  return nsExists(lab.gen.ns) && nsExists(lab.dut.ns) && linkExists(lab.gen.ns, lab.gen.ifname) && linkExists(lab.dut.ns, lab.dut.ifname);
}

/** accept_dad=0 for the interface, written to /proc/sys from inside its namespace (net sysctls
 *  are the opening thread's namespace's): no `sysctl` program needed. */
function disableDad(ns: string, ifname: string): void {
  enterNetns(ns);
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${ifname}/accept_dad`, "0");
  } catch (e) {
    throw new OpError(`disable DAD on ${ifname}: ${(e as Error).message}`);
  } finally {
    enterNetns(null);
  }
}

/** Create the namespaces and the veth pair; idempotent (a half-built lab is rebuilt). */
export function labUp(lab: Lab): "created" | "already up" {
  if (labIsUp(lab)) {
    configureEnds(lab); // idempotent: puts back an address, a link state or a neighbour someone removed
    return "already up";
  }
  labDown(lab);
  try {
    for (const end of [lab.gen, lab.dut]) run([ip(), "netns", "add", end.ns], `create namespace ${end.ns}`);
    run([ip(), "link", "add", lab.gen.ifname, "netns", lab.gen.ns, "address", lab.gen.mac, "type", "veth",
      "peer", "name", lab.dut.ifname, "netns", lab.dut.ns, "address", lab.dut.mac], "create veth pair");
    configureEnds(lab);
  } catch (e) {
    labDown(lab); // nothing half-built stays behind
    throw e;
  }
  return "created";
}

/** Addresses, links up and static neighbours on both ends; every step may be repeated. */
function configureEnds(lab: Lab): void {
  for (const end of [lab.gen, lab.dut]) {
    const ipIn = (...a: string[]) => run([ip(), "-n", end.ns, ...a], `configure ${end.ifname}`);
    // No duplicate address detection: the lab's IPv6 addresses are usable at once.
    disableDad(end.ns, end.ifname);
    ipIn("addr", "replace", `${end.ipv4}/24`, "dev", end.ifname);
    ipIn("addr", "replace", `${end.ipv6}/64`, "dev", end.ifname, "nodad");
    ipIn("link", "set", "lo", "up");
    ipIn("link", "set", end.ifname, "up");
  }
  // Static neighbours: traffic works from the first packet, and a blocked ARP cannot break it.
  run([ip(), "-n", lab.gen.ns, "neigh", "replace", lab.dut.ipv4, "lladdr", lab.dut.mac, "dev", lab.gen.ifname, "nud", "permanent"], "add neighbour");
  run([ip(), "-n", lab.dut.ns, "neigh", "replace", lab.gen.ipv4, "lladdr", lab.gen.mac, "dev", lab.dut.ifname, "nud", "permanent"], "add neighbour");
  run([ip(), "-n", lab.gen.ns, "neigh", "replace", lab.dut.ipv6, "lladdr", lab.dut.mac, "dev", lab.gen.ifname, "nud", "permanent"], "add neighbour");
  run([ip(), "-n", lab.dut.ns, "neigh", "replace", lab.gen.ipv6, "lladdr", lab.gen.mac, "dev", lab.dut.ifname, "nud", "permanent"], "add neighbour");
}

/** Put `pass` on the generator end (see the header comment); a no-op when already there. */
export async function labAttachGenerator(lab: Lab): Promise<void> {
  const { resolveIface } = await import("../ffi/netns.ts");
  const { attach } = await import("../program/attach.ts");
  const { embeddedObject } = await import("../program/embedded.ts");
  attach({ iface: resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`), image: embeddedObject("pass")!, objectName: "pass", mode: "native" });
}

/** Remove the lab and xdptool's pins for its interfaces; idempotent. */
export function labDown(lab: Lab): boolean {
  const { removePinDir, pinDir } = require("../ffi/bpffs.ts") as typeof import("../ffi/bpffs.ts");
  for (const end of [lab.gen, lab.dut]) removePinDir(pinDir(end.ifname));
  let existed = false;
  for (const end of [lab.gen, lab.dut]) {
    if (nsExists(end.ns)) {
      existed = true;
      spawnSync([ip(), "netns", "del", end.ns]);
    }
  }
  return existed;
}
