import { defineCommand } from "citty";
import { DEFAULT_BUFFER_MIB, MAX_SNAPLEN, MAX_SNAPLEN_PERF } from "../sampler/layout.ts";
import { intArg, interfaceArg } from "../cli.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "sample",
    description: `Capture packets at XDP into a pcap file (or 1 in N of them), like tcpdump but before the stack.
  Needs Linux 5.18 (bpf_xdp_load_bytes, bpf_xdp_get_buff_len, bpf_loop), probed before loading.

  On an interface with no XDP program, the sampler is attached only while the command runs
  (nothing is pinned: Ctrl-C, the end of -c or --duration, even kill -9, leave the interface as it
  was). On an interface running xdptool's combined program (blacklist, responder), the capture
  switches on that program's sampling stage instead: the other features keep running, and
  --action picks packets by the verdict they reached (e.g. what the blacklist dropped).
  At exit it tells where every packet the program saw went: captured, sampled out (--rate), lost
  in kernel buffers, filtered.

  Examples:
    xdptool sample xl-dut -w out.pcap                     # every packet until Ctrl-C
    xdptool sample xl-dut -w out.pcap --rate 100          # 1 packet in 100: one at a random place in every 100
    xdptool sample xl-dut -c 1000 --snaplen 128 -w - | tcpdump -r -
    xdptool sample xl-dut 'udp port 53 and src net 198.18.0.0/16'
    xdptool sample xl-dut --pcapng -w out.pcapng          # with drop statistics for Wireshark
    xdptool sample xl-dut --action drop -w dropped.pcap   # what the blacklist dropped
    xdptool sample xl-dut                                 # one line per packet`,
  },
  args: {
    ...interfaceArg,
    filter: { type: "positional", required: false, description: "tcpdump filter expression (the rest of the line, as with tcpdump)" },
    write: { type: "string", alias: "w", description: "Write packets to this file (- = stdout) instead of printing lines; a file is written with direct I/O where its file system allows (no page-cache pages to allocate per 4 KiB)" },
    count: { type: "string", alias: "c", description: "Stop after this many packets" },
    duration: { type: "string", description: "Stop after this many seconds" },
    rate: { type: "string", description: "Keep 1 packet in N: one at a random position in each block of N a CPU sees", default: "1" },
    snaplen: { type: "string", alias: "s", description: `Bytes of each packet to keep, up to ${MAX_SNAPLEN} (${MAX_SNAPLEN_PERF} with --transport perf); 0 = the most (as tcpdump's -s 0). Jumbo and multi-buffer frames are captured whole`, default: "0" },
    pcapng: { type: "boolean", description: "Write pcapng (with interface name and drop counts) instead of pcap" },
    "filter-at": { type: "string", description: "Where the filter runs: kernel (rejected packets are never copied) or user", default: "kernel" },
    transport: { type: "string", description: "Kernel-to-user transport: ringbuf or perf", default: "ringbuf" },
    mode: { type: "string", description: "Old name of --transport (--mode is the XDP attach mode elsewhere)", hidden: true },
    buffer: { type: "string", description: "Buffer size in MiB (per CPU for perf, in total for ringbuf; the combined program's ring is sized when it is loaded). Every page is touched before the capture starts, ~0.15 s per 16 MiB (said on stderr from 64 MiB on)", default: String(DEFAULT_BUFFER_MIB) },
    action: { type: "string", description: "Only packets with these verdicts (comma-separated: drop, pass, tx, aborted, redirect) from the stages before the sampler; default all", default: "all" },
    "drop-after-sample": { type: "boolean", description: "Benchmarks only: drop each packet after capturing it" },
    json: { type: "boolean", description: "Print the final counts as JSON (on stdout with -w FILE, else on stderr)" },
  },
  async run({ args }) {
    const rate = intArg("rate", args.rate, 1, 2 ** 31);
    const transport = args.mode ?? args.transport;
    if (transport !== "ringbuf" && transport !== "perf") throw new UsageError(`--transport must be ringbuf or perf, not "${transport}"`);
    const maxSnap = transport === "perf" ? MAX_SNAPLEN_PERF : MAX_SNAPLEN;
    const snaplen = intArg("snaplen", args.snaplen, 0, maxSnap) || maxSnap;
    const count = args.count !== undefined ? intArg("count", args.count, 1) : undefined;
    const duration = args.duration !== undefined ? intArg("duration", args.duration, 1, 86400 * 365) : undefined;
    const mib = intArg("buffer", args.buffer, 1, 1024);
    if ((mib & (mib - 1)) !== 0) throw new UsageError(`--buffer must be a power of two (MiB), not ${mib}`);
    const { XDP_ACTIONS } = await import("../ffi/xdp.ts");
    const VERDICTS: readonly string[] = XDP_ACTIONS;
    let actions = 0;
    if (args.action !== "all") {
      for (const a of args.action.split(",")) {
        const i = VERDICTS.indexOf(a.trim());
        if (i < 0) throw new UsageError(`--action must be all or a list of ${VERDICTS.join(", ")}, not "${a}"`);
        actions |= 1 << i;
      }
    }
    if (args["filter-at"] !== "kernel" && args["filter-at"] !== "user") throw new UsageError(`--filter-at must be kernel or user, not "${args["filter-at"]}"`);
    if (args.pcapng && !args.write) throw new UsageError("--pcapng needs -w FILE (or -w -)");
    // Like tcpdump, every word after the interface is part of the filter: `udp port 53` needs no quotes.
    const expr = ((args._ as string[] | undefined) ?? []).map(String).slice(1).join(" ") || undefined;
    const { run } = await import("../sampler/run.ts");
    await run({
      actions,
      ifname: args.interface, expr, write: args.write, count, durationMs: duration ? duration * 1000 : undefined,
      rate, snaplen, pcapng: !!args.pcapng, kernelFilter: args["filter-at"] === "kernel", transport, bufferBytes: mib << 20,
      dropAfterSample: !!args["drop-after-sample"], json: !!args.json,
    });
  },
});
