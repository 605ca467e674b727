// options.ts — `xdptool sample`'s command line checked and turned into options: every refusal is
// one line and exit 2, before anything is loaded, attached or created.
import { intArg } from "../cli/define.ts";
import { UsageError } from "../errors.ts";
import { MAX_SNAPLEN, MAX_SNAPLEN_PERF } from "./layout.ts";
import { strftime, type RotateOptions } from "./rotate.ts";
import { XDP_ACTIONS } from "../ffi/xdp.ts";
import type { LineOptions } from "./format.ts";
import type { RunOptions } from "./run.ts";


const VERDICTS: readonly string[] = XDP_ACTIONS;

/** What `sample` was asked: a live capture's options (run.ts), or -r FILE to read instead. */
export interface SampleArgs extends Omit<RunOptions, "ifname"> {
  /** Live capture: the interface. */
  ifname?: string;
  /** -r: the file to read instead. */
  read?: string;
}

/** What citty parsed (strings and booleans by argument name; `_`: every word). */
type Parsed = Record<string, unknown> & { _?: unknown[] };

export function parseSampleArgs(args: Parsed): SampleArgs {
  const str = (k: string) => args[k] as string | undefined;
  const words = (args._ ?? []).map(String);
  const read = str("read");
  if (read !== undefined && str("iface") !== undefined) throw new UsageError("-r reads a capture file and -i captures on an interface: give one of them");
  // Like tcpdump, the words after the interface (or all of them, with -i or -r) are the filter.
  let ifname = str("iface");
  let exprWords = words;
  if (read === undefined && ifname === undefined) {
    if (!words.length) throw new UsageError("name an interface (xdptool sample IFACE, or -i IFACE), or a capture file to read (-r FILE)");
    [ifname, ...exprWords] = words;
  }
  if (ifname === "") throw new UsageError("-i needs an interface name");

  const transport = str("mode") ?? str("transport");
  if (transport !== "ringbuf" && transport !== "perf") throw new UsageError(`--transport must be ringbuf or perf, not "${transport}"`);
  const maxSnap = transport === "perf" ? MAX_SNAPLEN_PERF : MAX_SNAPLEN;
  const snapArg = str("snaplen") ?? "0";
  if (!/^\d+$/.test(snapArg) || Number(snapArg) > maxSnap) {
    throw new UsageError(`--snaplen (-s) must be 0 (the most) or a whole number from 1 to ${maxSnap}${transport === "perf" ? " with --transport perf" : ""}, not "${snapArg}"`);
  }
  const snaplen = Number(snapArg) || maxSnap;

  const write = str("write");
  const rotate = rotation(args, write, read);
  const line: LineOptions = { linkHeader: !!args["link-header"], hex: !!args.hex };
  if ((line.linkHeader || line.hex) && write) throw new UsageError("-e and -x shape printed lines: with -w nothing is printed");
  if (args.pcapng && !write) throw new UsageError("--pcapng needs -w FILE (or -w -)");

  const rate = intArg("rate", str("rate") ?? "1", 1, 2 ** 31);
  const mib = intArg("buffer", str("buffer"), 1, 1024);
  if ((mib & (mib - 1)) !== 0) throw new UsageError(`--buffer must be a power of two (MiB), not ${mib}`);
  let actions = 0;
  const action = str("action") ?? "all";
  if (action !== "all") {
    for (const a of action.split(",")) {
      const i = VERDICTS.indexOf(a.trim());
      if (i < 0) throw new UsageError(`--action must be all or a list of ${VERDICTS.join(", ")}, not "${a}"`);
      actions |= 1 << i;
    }
  }
  const filterAt = str("filter-at");
  if (filterAt !== "kernel" && filterAt !== "user") throw new UsageError(`--filter-at must be kernel or user, not "${filterAt}"`);
  const duration = str("duration") !== undefined ? intArg("duration", str("duration"), 1, 86400 * 365) : undefined;
  if (read !== undefined) {
    // What only a live capture has: refused rather than silently ignored.
    const live: [string, boolean][] = [["--rate", rate !== 1], ["--action", actions !== 0], ["--duration", duration !== undefined], ["--drop-after-sample", !!args["drop-after-sample"]], ["--transport", transport !== "ringbuf"]];
    const given = live.find(([, on]) => on);
    if (given) throw new UsageError(`${given[0]} applies to a live capture, not to -r ${read}`);
  }
  return {
    ifname, read, expr: exprWords.join(" ") || undefined, write, snaplen, transport, rotate, line, rate, actions,
    count: str("count") !== undefined ? intArg("count", str("count"), 1) : undefined,
    durationMs: duration ? duration * 1000 : undefined,
    pcapng: !!args.pcapng, kernelFilter: filterAt === "kernel", bufferBytes: mib << 20,
    dropAfterSample: !!args["drop-after-sample"], json: !!args.json,
  };
}

/** -C, -G, -W: only with -w FILE, -W only with one of the others (tcpdump's rules). */
function rotation(args: Parsed, write: string | undefined, read: string | undefined): RotateOptions | undefined {
  const given = (["file-size", "rotate-seconds", "file-count"] as const).filter((k) => args[k] !== undefined);
  if (!given.length) return undefined;
  const flag = { "file-size": "-C", "rotate-seconds": "-G", "file-count": "-W" };
  const names = given.map((k) => flag[k]).join(", ");
  if (!write) throw new UsageError(`${names}: rotating capture files needs -w FILE`);
  if (write === "-") throw new UsageError(`${names}: rotating capture files needs -w FILE, not standard output`);
  const num = (k: keyof typeof flag, max: number) => (args[k] === undefined ? undefined : intArg(`${k} (${flag[k]})`, args[k], 1, max));
  const mb = num("file-size", 1_000_000);
  const o: RotateOptions = { fileBytes: mb && mb * 1_000_000, seconds: num("rotate-seconds", 86400 * 366), files: num("file-count", 1_000_000) };
  if (o.files !== undefined && !o.fileBytes && !o.seconds) throw new UsageError("-W counts the files of -C or -G: give one of them too");
  if (o.seconds && read !== undefined) throw new UsageError("-G rotates by the clock of a live capture; with -r, rotate by size (-C)");
  if (o.seconds) strftime(write, new Date()); // an unknown conversion in the name fails here
  return o;
}
