import { defineCommand, intArg, jsonArg } from "../cli/define.ts";
import { UsageError } from "../errors.ts";
import { printJson } from "../table.ts";

export default defineCommand({
  meta: {
    name: "bench",
    description: `Measure every feature: ns/packet (BPF_PROG_TEST_RUN) and live Mpps (lab LIVE_FRAMES).

  Each figure is also shown as a ratio to bare XDP_DROP measured in the same run, because absolute
  numbers on a shared machine move from run to run. Sets up its own lab if needed (and removes it).

  --quick runs every group small (200,000 live frames, a tenth of the TEST_RUN repeats, the
  largest blacklist at 100k rules): a check that each scenario still works, in about a minute;
  its figures are rougher than a full run's.

  Examples:
    xdptool bench                          # every scenario, a table
    xdptool bench --quick --json           # every group, small: does everything still run?
    xdptool bench stats --json             # one group
    xdptool bench --markdown bench/RESULTS.md --plot bench/mpps.svg`,
  },
  args: {
    group: { type: "positional", required: false, description: "Scenario group: baseline, stats, … (default: all)" },
    count: { type: "string", description: "Frames per live measurement (default 5000000; 200000 with --quick)" },
    quick: { type: "boolean", description: "Every group at a small size: fewer frames and repeats, 100k rules at most" },
    markdown: { type: "string", description: "Write the results as Markdown (table + command) into this file, in place of the last run's section (which moves to history/ beside it)" },
    plot: { type: "string", description: "Write an SVG chart of live Mpps per scenario" },
    lab: { type: "string", description: "Lab to use (default $XDPTOOL_LAB or xl)" },
    name: { type: "string", description: "Old name of --lab", hidden: true },
    ...jsonArg,
  },
  async run({ args, rawArgs }) {
    const count = args.count !== undefined ? intArg("count", args.count, 1000, 1e9) : args.quick ? 200_000 : 5_000_000;
    const { makeScenarios } = await import("../bench/scenarios.ts");
    const scenarios = makeScenarios(args.quick ? 100_000 : 1_000_000);
    const groups = [...new Set(scenarios.map((s) => s.group))];
    if (args.group && !groups.includes(args.group)) throw new UsageError(`unknown scenario group "${args.group}": ${groups.join(", ")}`);
    // Minutes of measuring must not end in a file that cannot be written.
    for (const [flag, path] of [["markdown", args.markdown], ["plot", args.plot]] as const) if (path) writableFile(flag, path);
    const { requireCaps } = await import("../privileges.ts");
    requireCaps("xdptool bench", ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    const { labConfig, labUp, labDown, labAttachGenerator } = await import("../lab/setup.ts");
    const { runScenario, withRatios, bareSingleRunNs, FULL, QUICK } = await import("../bench/run.ts");
    const effort = args.quick ? QUICK : FULL;
    const lab = labConfig(args.lab ?? args.name);
    const created = labUp(lab) === "created";
    const cleanup = () => created && labDown(lab);
    process.on("SIGINT", () => (cleanup(), process.exit(130)));
    const tty = process.stderr.isTTY;
    const progress = (m: string) => tty && process.stderr.write(`\r\x1b[K${m}`);
    try {
      await labAttachGenerator(lab);
      // The baseline always runs: every ratio needs it.
      const chosen = scenarios.filter((s) => !args.group || s.group === args.group || s.group === "baseline");
      const results = [];
      for (const [i, s] of chosen.entries()) {
        progress(`[${i + 1}/${chosen.length}] `);
        results.push(await runScenario(lab, s, count, (m) => progress(`[${i + 1}/${chosen.length}] ${m}`), effort));
      }
      if (tty) process.stderr.write("\r\x1b[K");
      const rs = withRatios(results, results.some((r) => r.nsMethod === "single") ? await bareSingleRunNs(lab, effort) : undefined);
      const { resultTable, resultMarkdown, resultSvg } = await import("../bench/report.ts");
      const { writeFileSync } = await import("node:fs");
      const { recordResults } = await import("../bench/results.ts");
      if (args.markdown) recordResults(args.markdown, resultMarkdown(rs, `xdptool ${rawArgs.join(" ")}`, new Date()));
      if (args.plot) writeFileSync(args.plot, resultSvg(rs));
      if (args.json) return printJson(rs);
      console.log(resultTable(rs));
    } finally {
      cleanup();
    }
  },
});

/** A file the run can write at its end: an existing writable file, or a new one in a writable directory. */
function writableFile(flag: string, path: string): void {
  const { accessSync, constants, existsSync, statSync } = require("node:fs") as typeof import("node:fs");
  const { dirname } = require("node:path") as typeof import("node:path");
  const target = existsSync(path) ? path : dirname(path);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--${flag} ${path} is a directory; name a file`);
  if (!existsSync(target)) throw new UsageError(`--${flag} ${path}: no directory ${target}`);
  try {
    accessSync(target, constants.W_OK);
  } catch {
    throw new UsageError(`--${flag} ${path}: ${target} is not writable`);
  }
}
