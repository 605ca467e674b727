// self.ts — how to run this very xdptool again as a child process (the demo and the benchmarks
// drive the real command line): the compiled binary itself, or bun + main.ts from source.
export function selfArgv(): string[] {
  const script = process.argv[1];
  return !script || script.startsWith("/$bunfs") ? [process.execPath] : [process.execPath, script];
}
