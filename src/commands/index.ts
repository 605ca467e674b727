// index.ts — every command, imported only when it runs (start-up stays fast). Each carries the
// line root help lists it by — the first line of its description — so `xdptool --help` loads no
// command module (test/foundation.test.ts checks each line against the command's own).
import type { CommandDef } from "citty";
import { lazyCommand } from "../cli/define.ts";

export const commands: Record<string, () => Promise<CommandDef>> = {
  lab: lazyCommand(`The test bed: namespaces <lab>-gen and <lab>-dut joined by a veth pair (lab "xl" by default).`, () => import("./lab/index.ts")),
  load: lazyCommand("Attach an XDP program to an interface; it stays attached after xdptool exits.", () => import("./load.ts")),
  unload: lazyCommand("Detach xdptool's XDP program from an interface and remove its pins (and nothing else).", () => import("./unload.ts")),
  status: lazyCommand("Show the XDP program on every interface: name, id, tag, mode and owner.", () => import("./status.ts")),
  stats: lazyCommand("Packets, bytes, packets/s and Mbit/s per XDP verdict and protocol, from the programs' own counters.", () => import("./stats.ts")),
  map: lazyCommand("Any BPF map on the host (not only xdptool's): list, dump, get, update, delete.", () => import("./map/index.ts")),
  blacklist: lazyCommand("Drop packets by MAC, IPv4/IPv6 prefix, protocol and port, in XDP, with per-rule counters.", () => import("./blacklist/index.ts")),
  responder: lazyCommand(`DNS "TC bit" responder: answer UDP queries with an empty truncated reply (TC=1), sent back by XDP_TX.`, () => import("./responder/index.ts")),
  sample: lazyCommand("Capture packets at XDP into a pcap file (or 1 in N of them), like tcpdump but before the stack.", () => import("./sample.ts")),
  run: lazyCommand("Run every frame of a capture through an XDP program and show what it did — no interface needed.", () => import("./run.ts")),
  save: lazyCommand("Write what xdptool runs on this host as a configuration file that `xdptool apply` restores.", () => import("./save.ts")),
  apply: lazyCommand("Make this host run what a configuration file (written by `xdptool save`) describes.", () => import("./apply.ts")),
  service: lazyCommand("Run xdptool as a systemd service: apply the configuration at boot, before the network comes up.", () => import("./service/index.ts")),
  bench: lazyCommand("Measure every feature: ns/packet (BPF_PROG_TEST_RUN) and live Mpps (lab LIVE_FRAMES).", () => import("./bench.ts")),
  completion: lazyCommand("Print a shell completion script: commands, subcommands, options, interface names and lab sides.", () => import("./completion.ts")),
};

/** The root command (main.ts), for what walks the whole tree (completion). */
export const root = async (): Promise<CommandDef> => (await import("../cli/root.ts")).main as CommandDef;
