#!/usr/bin/env bun
// main.ts — entry point: parse the command line, run one command, map errors to exit codes.
//   0 success · 1 the operation failed · 2 bad usage or bad input. Errors are one line on stderr.
import type { CommandDef } from "citty";
import { main } from "./cli/root.ts";
import { checkFlags, quickArgs, resolveChain } from "./cli/define.ts";
import { helpText } from "./cli/help.ts";
import { bpftoolMapWords } from "./maps/bpftool-words.ts";

/** Options before the command (`xdptool --json status`) go after it, where the command reads them. */
function optionsAfterCommand(argv: string[]): string[] {
  let i = 0;
  while (i < argv.length && argv[i].startsWith("-") && argv[i] !== "--") i++;
  if (i === 0 || i === argv.length || argv[i] === "--") return argv;
  const end = argv.includes("--") ? argv.indexOf("--") : argv.length;
  return [...argv.slice(i, end), ...argv.slice(0, i), ...argv.slice(end)];
}

async function run(raw: string[]): Promise<number> {
  const argv = bpftoolMapWords(optionsAfterCommand(raw));
  // Words after "--" belong to the command run (`lab exec gen -- ls -h`), not to xdptool.
  const own = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    const { versionLines } = await import("./version.ts");
    console.log((await versionLines()).join("\n"));
    return 0;
  }
  // `xdptool man blacklist add`: its manual page, in roff (man -l - shows it).
  if (own[0] === "man") {
    const { manPage } = await import("./cli/man.ts");
    const { writeAll } = await import("./table.ts");
    writeAll(await manPage(await resolveChain(main as CommandDef, own.slice(1).filter((a) => !a.startsWith("-")))));
    return 0;
  }
  // `xdptool help blacklist add` is `xdptool blacklist add --help`.
  if (own[0] === "help") {
    console.log(await helpText(await resolveChain(main as CommandDef, own.slice(1).filter((a) => !a.startsWith("-")))));
    return 0;
  }
  const chain = await resolveChain(main as CommandDef, own);
  const cmd = chain[chain.length - 1];
  // Asked for: usage on stdout, exit 0. A command group with no command (`xdptool`, `xdptool
  // blacklist`): usage on stderr, exit 2, as git does — after unknown options are refused.
  if (own.includes("--help") || own.includes("-h")) {
    console.log(await helpText(chain));
    return 0;
  }
  await checkFlags(chain, argv);
  // The binary starts with JavaScriptCore's JIT held back (`--compile-jit-policy` in package.json):
  // start-up code runs once, and compiling it took a thread and 2-3 ms of `status`. A command that
  // may loop over much data (a million rules, a capture) gets the normal JIT back first.
  if (!(chain.length === 2 && argv[0] === "status")) Bun.unsafe.setJITPolicy(1);
  if (cmd.subCommands && !cmd.run) {
    console.error(await helpText(chain));
    return 2;
  }
  // Words and boolean flags: the command runs with no parser to load. Anything else: citty parses
  // the arguments and runs the command; --help and usage errors never load it.
  const args = argv.includes("--") ? null : await quickArgs(chain, argv);
  if (args && cmd.run) {
    await cmd.run({ rawArgs: argv.slice(chain.length - 1), args: args as never, cmd, data: undefined });
    return (process.exitCode as number) ?? 0;
  }
  const { runCommand } = await import("citty");
  await runCommand(main, { rawArgs: argv });
  return (process.exitCode as number) ?? 0;
}

function exitCodeOf(e: unknown): number {
  if (e && typeof e === "object" && "exitCode" in e && typeof e.exitCode === "number") return e.exitCode;
  // citty's own errors (unknown command, missing positional) are usage errors.
  if (e && typeof e === "object" && (e as { name?: string }).name === "CLIError") return 2;
  return 1;
}

run(process.argv.slice(2)).then(
  // What commands print has reached the kernel before this exit: console.log writes
  // synchronously (it waits out a full pipe, even a non-blocking one), long texts go through
  // writeAll (table.ts); test/pipes.test.ts checks both. Nothing touches process.stdout: creating
  // that stream costs more than all the rest of `--help` (docs/B-packaging.md). Ending with libc's
  // _exit(2) instead was measured: no difference (bench/RESULTS.md "startup steps").
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    let msg = err.message.split("\n")[0];
    if (process.env.XDPTOOL_DEBUG) console.error(err.stack, "detail" in err && err.detail ? `\n${err.detail}` : "");
    // A usage error points at --help, unless it already says what to run or gives its own hint,
    // or points into a file (FILE:LINE: the file is what to look at).
    else if (exitCodeOf(e) === 2 && msg && !/\)$/.test(msg) && !msg.includes("xdptool ") && !/^\S+:\d+: /.test(msg)) msg += " (see --help)";
    process.stderr.write(`xdptool: ${msg}\n`);
    // --verbose: the whole libbpf log (e.g. the verifier's), after the one-line summary.
    if ("detail" in err && err.detail && process.argv.includes("--verbose")) process.stderr.write(`${err.detail}\n`);
    process.exit(exitCodeOf(e));
  },
);
