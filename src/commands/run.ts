import { defineCommand } from "../cli/define.ts";
import { UsageError } from "../errors.ts";

export default defineCommand({
  meta: {
    name: "run",
    description: `Run every frame of a capture through an XDP program and show what it did — no interface needed.

  The program (an embedded one, or the XDP program of your .o) is loaded but not attached; each
  frame of the pcap or pcapng goes through it with BPF_PROG_TEST_RUN, one at a time and in order,
  so maps carry state from frame to frame as on an interface. Per frame: its number, the verdict
  (ABORTED, DROP, PASS, TX, REDIRECT), how much the program grew (+) or cut (-) the frame, and
  the frame as the program left it. REDIRECT is the verdict only: a test run sends nothing.
  -w writes the frames as the program left them to a pcapng file, each with its verdict (a
  comment and epb_verdict, shown by Wireshark). --trace prints each frame's bpf_printk lines
  under it, read from the kernel's trace pipe (mounted if needed); reading consumes the pipe, as
  \`bpftool prog tracelog\` does. --map NAME shows a map after the run; --map NAME=FILE.json fills
  it first from a file in the form \`map dump --json\` prints; a ring buffer given to --map is read
  after each frame instead, and what the frame submitted is shown under it (hex).

  Examples:
    xdptool run drop -r in.pcap                          # the embedded program that drops all
    xdptool run ./my.bpf.o -r in.pcapng -w out.pcapng    # then: tshark -r out.pcapng
    xdptool run ./my.bpf.o --name xdp_count -r in.pcap --map counts
    xdptool run ./my.bpf.o -r in.pcap --trace            # with each frame's bpf_printk lines
    xdptool run ./my.bpf.o -r in.pcap --json | jq -r .verdict`,
  },
  args: {
    object: { type: "positional", required: true, description: "Embedded program name or path to a BPF .o file" },
    name: { type: "string", description: "Function name of the program in a .o with several" },
    section: { type: "string", description: "ELF section of the program in a .o file (e.g. xdp)" },
    read: { type: "string", alias: "r", description: "The pcap or pcapng file whose frames to run (Ethernet)" },
    write: { type: "string", alias: "w", description: "Write the frames as the program left them to this pcapng file" },
    trace: { type: "boolean", description: "Show each frame's bpf_printk lines (from the kernel's trace pipe)" },
    map: { type: "string", description: "NAME: show this map after the run (a ring buffer: each frame's records); NAME=FILE.json: fill it from the file first (repeatable)", repeatable: true },
    json: { type: "boolean", description: "One JSON object per line: each frame, then each --map" },
  },
  async run({ args, rawArgs }) {
    if (!args.read) throw new UsageError("xdptool run needs -r FILE: the capture whose frames to run");
    const { programImage, EMBEDDED } = await import("../program/embedded.ts");
    const image = programImage(args.object, EMBEDDED);
    const { readCaptureFile } = await import("../net/capture-read.ts");
    const frames = readCaptureFile(args.read);
    const { checkFrames } = await import("../run/frames.ts");
    checkFrames(frames, args.read);
    const { parseMapSpec } = await import("../run/maps.ts");
    // Every --map given (the parser keeps only the last of a repeated option).
    const maps = rawArgs.flatMap((a, i) => (a === "--map" ? [rawArgs[i + 1]] : a.startsWith("--map=") ? [a.slice(6)] : [])).map(parseMapSpec);
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool run");
    const { runCapture } = await import("../run/session.ts");
    await runCapture({ image, objectName: args.object, program: args.name, section: args.section, frames, write: args.write, trace: args.trace, maps, json: args.json });
  },
});
