import { defineCommand } from "../cli/define.ts";
import { DEFAULT_BUFFER_MIB, MAX_SNAPLEN, MAX_SNAPLEN_PERF } from "../sampler/layout.ts";

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
    xdptool sample xl-dut                                 # one line per packet
    xdptool sample -i xl-dut -e -x udp port 53            # tcpdump's spelling; MACs, and the bytes in hex
    xdptool sample xl-dut -w ring.pcap -C 100 -W 10       # a ring of 10 files of ~100 MB: ring.pcap0 … ring.pcap9
    xdptool sample xl-dut -w 'cap-%Y%m%d-%H%M%S.pcap' -G 60  # a new file every minute
    xdptool sample -r out.pcapng 'tcp port 22'            # read a capture back (ours or tcpdump's), filtered
    xdptool sample xl-dut -s 0 -w jumbo.pcap              # whole frames, jumbo and multi-buffer too`,
  },
  args: {
    interface: { type: "positional", required: false, description: "Interface name, or NETNS/IFNAME (or -i IFACE; none with -r)" },
    filter: { type: "positional", required: false, description: "tcpdump filter expression (the rest of the line, as with tcpdump)" },
    iface: { type: "string", alias: "i", description: "Interface to capture on, as tcpdump -i (then every word is the filter)" },
    read: { type: "string", alias: "r", description: "Read packets from this pcap or pcapng file (- = stdin; ours, tcpdump's, Wireshark's) instead of an interface: one line per packet, or -w a new file" },
    write: { type: "string", alias: "w", description: "Write packets to this file (- = stdout) instead of printing lines; a file is written with direct I/O where its file system allows (no page-cache pages to allocate per 4 KiB). With -G, strftime(3) conversions (%Y%m%d-%H%M%S) in the name" },
    "file-size": { type: "string", alias: "C", description: "As tcpdump -C: once the file is larger than this many million bytes, go on in a new one (FILE, FILE1, FILE2…)" },
    "rotate-seconds": { type: "string", alias: "G", description: "As tcpdump -G: a new file every this many seconds, named by -w through strftime" },
    "file-count": { type: "string", alias: "W", description: "As tcpdump -W: with -C, a ring of this many files (FILE0…FILE{N-1}, zero-padded); with -G alone, stop after this many" },
    count: { type: "string", alias: "c", description: "Stop after this many packets" },
    duration: { type: "string", description: "Stop after this many seconds" },
    rate: { type: "string", description: "Keep 1 packet in N: one at a random position in each block of N a CPU sees", default: "1" },
    snaplen: { type: "string", alias: "s", description: `Bytes of each packet to keep, up to ${MAX_SNAPLEN} (${MAX_SNAPLEN_PERF} with --transport perf); 0 = the most (as tcpdump's -s 0). Jumbo and multi-buffer frames are captured whole`, default: "0" },
    pcapng: { type: "boolean", description: "Write pcapng (interface name, each packet's XDP verdict and queue, drop counts) instead of pcap" },
    numeric: { type: "boolean", alias: "n", description: "As tcpdump -n; addresses and ports are always printed as numbers" },
    "link-header": { type: "boolean", alias: "e", description: "As tcpdump -e: print each line's MAC addresses and ethertype" },
    hex: { type: "boolean", alias: "x", description: "As tcpdump -x: print each packet's bytes in hex (from the network header) under its line" },
    "filter-at": { type: "string", description: "Where the filter runs: kernel (rejected packets are never copied) or user", default: "kernel" },
    transport: { type: "string", description: "Kernel-to-user transport: ringbuf or perf", default: "ringbuf" },
    mode: { type: "string", description: "Old name of --transport (--mode is the XDP attach mode elsewhere)", hidden: true },
    buffer: { type: "string", description: "Buffer size in MiB (per CPU for perf, in total for ringbuf; the combined program's ring is sized when it is loaded). Every page is touched before the capture starts, ~0.15 s per 16 MiB (said on stderr from 64 MiB on)", default: String(DEFAULT_BUFFER_MIB) },
    action: { type: "string", description: "Only packets with these verdicts (comma-separated: drop, pass, tx, aborted, redirect) from the stages before the sampler; default all", default: "all" },
    "drop-after-sample": { type: "boolean", description: "Benchmarks only: drop each packet after capturing it" },
    json: { type: "boolean", description: "Print the final counts as JSON (on stdout with -w FILE, else on stderr)" },
  },
  async run({ args }) {
    const { parseSampleArgs } = await import("../sampler/options.ts");
    const o = parseSampleArgs(args as Record<string, unknown>);
    if (o.read) {
      const { readBack } = await import("../sampler/read-back.ts");
      await readBack({ ...o, read: o.read });
      return;
    }
    const { run } = await import("../sampler/run.ts");
    await run({ ...o, ifname: o.ifname! });
  },
});
