import { defineCommand } from "citty";
import { jsonArg } from "../../cli.ts";
import { UsageError } from "../../errors.ts";
import { printJson } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "import",
    description: `Load rules from a file (or - for stdin): one rule per line, as \`blacklist add\` takes them.

  Lines may be blank or comments (#); a bare address or prefix may end with "; comment". The
  whole file is checked first: a bad line is reported as FILE:LINE and nothing changes (exit 2).
  With --replace the new rule set is built beside the live one and switched in at once: packets
  see the old rules or the new ones, never a mix. Without it the live rules stay (with their
  counters): up to 20,000 new rules are added one by one, more go through the same rebuild and
  switch. Duplicates are skipped and counted.

  Examples:
    xdptool blacklist import rules.txt
    xdptool blacklist import rules.txt --replace     # exactly these rules, atomically
    xdptool blacklist export | xdptool blacklist import - -i eth1`,
  },
  args: {
    file: { type: "positional", required: true, description: "Rule file, or - for standard input" },
    replace: { type: "boolean", description: "Replace every rule with the file's rules" },
    ...ifaceArg,
    ...jsonArg,
  },
  async run({ args }) {
    const file = args.file === "-" ? "<stdin>" : args.file;
    const { readRulesFile } = await import("../../blacklist/source.ts");
    const text = readRulesFile(args.file);
    const { parseRulesText } = await import("../../blacklist/parse.ts");
    const t0 = performance.now();
    const parsed = parseRulesText(text, file);
    const parseMs = performance.now() - t0;
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, importRules, freeIdleInBackground } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    const tty = process.stderr.isTTY;
    if (tty) {
      // A progress bar on a terminal only. Each rule is written twice (its state, its match entry).
      const { batchProgress } = await import("../../blacklist/maps.ts");
      const total = 2 * (parsed.rules.length + parsed.bare4.n + parsed.bare6.n);
      let done = 0;
      batchProgress.onWrite = (n) => {
        done = Math.min(total, done + n);
        const pct = total ? done / total : 1, w = 30;
        process.stderr.write(`\r\x1b[K${ifname}: [${"#".repeat(Math.round(pct * w)).padEnd(w, ".")}] ${(pct * 100).toFixed(0)}% of ${total / 2} rules`);
      };
    }
    const s = withBlacklist(ifname, (bl) => importRules(ifname, bl, parsed, !!args.replace));
    if (tty) process.stderr.write("\r\x1b[K");
    if (s.method === "rebuild") await freeIdleInBackground(ifname);
    if (args.json) return printJson({ ...s, parseMs });
    const t = s.timing;
    if (!t) return console.log(`${ifname}: added ${s.added} rules one by one (${s.read} read, ${s.duplicates} already there)`);
    console.log(`${ifname}: ${s.replace ? "replaced the rule set with" : "now holds"} ${s.total} rules (${s.read} read, ${s.duplicates} duplicates skipped)`);
    console.log(`  parse ${parseMs.toFixed(0)} ms, build ${(t.prepareMs + t.writeMs).toFixed(0)} ms, switch ${t.switchUs.toFixed(0)} µs; the old set is freed in the background`);
  },
});
