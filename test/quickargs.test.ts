// The arguments a command runs with when main.ts skips citty (words and boolean flags only) are
// the ones citty's parser gives for the same line, for every command; anything else is left to citty.
import { expect, test } from "bun:test";
import { parseArgs, type ArgsDef, type CommandDef } from "citty";
import { flagName, quickArgs, value } from "../src/cli/define.ts";
import { root } from "../src/commands/index.ts";

async function leaves(cmd: CommandDef, chain: CommandDef[] = [cmd], path: string[] = []): Promise<[CommandDef[], string[]][]> {
  const subs = (await value(cmd.subCommands)) as Record<string, () => Promise<CommandDef>> | undefined;
  if (!subs) return [[chain, path]];
  const out: [CommandDef[], string[]][] = [];
  for (const [name, sub] of Object.entries(subs)) {
    const c = await sub();
    out.push(...(await leaves(c, [...chain, c], [...path, name])));
  }
  return out;
}

test("words and boolean flags: the same arguments as citty's parser, for every command", async () => {
  let compared = 0;
  for (const [chain, path] of await leaves(await root())) {
    const defs = Object.entries(((await value(chain[chain.length - 1].args)) ?? {}) as ArgsDef);
    const flags = defs.filter(([, d]) => d.type === "boolean").flatMap(([n]) => [...new Set([`--${n}`, `--${flagName(n)}`])]);
    const lines = [[], ["w1"], ["w1", "w2", "w3"], ...flags.map((f) => [f]), ...flags.map((f) => ["w1", f, "w2"]), flags];
    for (const rest of lines) {
      const quick = await quickArgs(chain, [...path, ...rest]);
      if (!quick) continue;
      const citty = parseArgs(rest, Object.fromEntries(defs) as ArgsDef) as Record<string, unknown>;
      const names = ["_", ...defs.flatMap(([n]) => [n, flagName(n), n.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())])];
      for (const n of names) expect([path.join(" "), rest.join(" "), n, quick[n]]).toEqual([path.join(" "), rest.join(" "), n, citty[n]]);
      compared++;
    }
  }
  expect(compared).toBeGreaterThan(100);
});

test("anything else is citty's: option values, --no-…, aliases, \"--\", a missing positional, unknown flags", async () => {
  const status = (await (await root()).subCommands as Record<string, () => Promise<CommandDef>>).status;
  const sample = (await (await root()).subCommands as Record<string, () => Promise<CommandDef>>).sample;
  const load = (await (await root()).subCommands as Record<string, () => Promise<CommandDef>>).load;
  const chain = async (c: () => Promise<CommandDef>) => [await root(), await c()];
  expect(await quickArgs(await chain(status), ["status", "--json"])).not.toBeNull();
  for (const line of [["status", "--no-json"], ["status", "--verbose"], ["status", "--json=1"], ["status", "-5"]]) expect([line, await quickArgs(await chain(status), line)]).toEqual([line, null]);
  expect(await quickArgs(await chain(load), ["load"])).toBeNull(); // citty says INTERFACE is missing
  for (const line of [["sample", "x", "-w", "f.pcap"], ["sample", "x", "-e"], ["sample", "x", "--count", "5"]]) expect([line, await quickArgs(await chain(sample), line)]).toEqual([line, null]);
});
