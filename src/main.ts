#!/usr/bin/env bun
// main.ts — entry point: parse the command line, run one command, map errors to exit codes.
//   0 success · 1 the operation failed · 2 bad usage or bad input. Errors are one line on stderr.
import { defineCommand, runCommand, type CommandDef } from "citty";
import { commands } from "./commands/index.ts";
import { VERSION } from "./version.ts";
import { checkFlags, helpText, resolveChain } from "./cli.ts";

const main = defineCommand({
  meta: {
    name: "xdptool",
    version: VERSION,
    description: "Load, inspect and run XDP programs: stats, maps, blacklist, sampling, DNS responder, lab, benchmarks.",
  },
  args: {
    version: { type: "boolean", description: "Print xdptool's, libbpf's and the kernel's versions" },
  },
  subCommands: commands,
});

async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    const { versionLines } = await import("./version.ts");
    console.log((await versionLines()).join("\n"));
    return 0;
  }
  const chain = await resolveChain(main as CommandDef, argv);
  const cmd = chain[chain.length - 1];
  if (argv.includes("--help") || argv.includes("-h") || argv.length === 0 || (cmd.subCommands && !cmd.run && chain.length === argv.filter((a) => !a.startsWith("-")).length + 1)) {
    console.log(await helpText(cmd, chain.length > 1 ? chain[chain.length - 2] : undefined));
    return argv.length === 0 ? 2 : 0;
  }
  await checkFlags(chain, argv);
  await runCommand(main, { rawArgs: argv });
  return (process.exitCode as number) ?? 0;
}

function exitCodeOf(e: unknown): number {
  if (e && typeof e === "object" && "exitCode" in e && typeof e.exitCode === "number") return e.exitCode;
  // citty's own errors (unknown command, missing positional) are usage errors.
  if (e && typeof e === "object" && (e as { name?: string }).name === "CLIError") return 2;
  return 1;
}

/** Exit only once stdout has been handed to the kernel: console.log to a pipe is asynchronous. */
function exitAfterFlush(code: number): void {
  process.stdout.write("", () => process.exit(code));
}

run(process.argv.slice(2)).then(
  (code) => exitAfterFlush(code),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    let msg = err.message.split("\n")[0];
    if (process.env.XDPTOOL_DEBUG) console.error(err.stack, "detail" in err && err.detail ? `\n${err.detail}` : "");
    else if (exitCodeOf(e) === 2 && msg) msg += " (see --help)";
    process.stderr.write(`xdptool: ${msg}\n`);
    // --verbose: the whole libbpf log (e.g. the verifier's), after the one-line summary.
    if ("detail" in err && err.detail && process.argv.includes("--verbose")) process.stderr.write(`${err.detail}\n`);
    process.exit(exitCodeOf(e));
  },
);
