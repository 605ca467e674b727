import { defineCommand, jsonArg } from "../../cli/define.ts";
import { UsageError } from "../../errors.ts";
import { printJson } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "import",
    description: `Load rules from a file, - for stdin, or a feed URL (http, https): one rule per line, as \`blacklist add\` takes them.

  Lines may be blank or comments (#); a bare address or prefix may end with "; comment". A rule
  keeps a --comment "text" (quoted; \\" inside) as \`add\` does; a rule already there keeps its
  comment unless the line gives one (also with --replace). The whole file is checked first: a bad line is reported as FILE:LINE and nothing changes (exit 2).
  With --replace the new rule set is built beside the live one and switched in at once: packets
  see the old rules or the new ones, never a mix. Without it the live rules stay (with their
  counters): up to 20,000 new rules are added one by one, more go through the same rebuild and
  switch. Duplicates are skipped and counted.

  Feeds (URL): Spamhaus DROP ("prefix ; SBL…", ";" comments), FireHOL .netset/.ipset ("#"
  comments, bare addresses and prefixes), plain lists and \`blacklist export\` output all read
  as rule files do. A feed's rules follow the feed: each import adds what it lists now and
  removes what it listed last time and no longer does; other rules stay. With --replace the
  blacklist becomes exactly the feed. The request is conditional (ETag, Last-Modified, kept per
  interface and URL in $XDPTOOL_STATE_DIR/feeds.json, default /var/lib/xdptool): an unchanged
  feed is not downloaded or applied again (if its rules have gone — a flush, a new attach, a
  reboot — the copy kept from the last download is applied). A feed that cannot be fetched (HTTP error, timeout,
  TLS, larger than --max-size) or parsed leaves the rules as they were: exit 1, the reason in one
  line. At most 5 redirects are followed. A private CA: NODE_EXTRA_CA_CERTS=ca.pem;
  a proxy: HTTP_PROXY, HTTPS_PROXY.

  Examples:
    xdptool blacklist import rules.txt
    xdptool blacklist import rules.txt --replace     # exactly these rules, atomically
    xdptool blacklist export | xdptool blacklist import - -i eth1
    xdptool blacklist import https://www.spamhaus.org/drop/drop.txt
    xdptool blacklist import https://iplists.firehol.org/files/firehol_level1.netset --max-size 8M`,
  },
  args: {
    file: { type: "positional", required: true, description: "Rule file, - for standard input, or an http(s):// feed URL" },
    replace: { type: "boolean", description: "Replace every rule with the file's rules" },
    maxSize: { type: "string", description: "Feeds: refuse a body larger than this (bytes, or with K, M, G)", default: "64M" },
    timeout: { type: "string", description: "Feeds: seconds allowed for the whole download", default: "60" },
    force: { type: "boolean", description: "Feeds: download and apply even if the feed looks unchanged" },
    ...ifaceArg,
    ...jsonArg,
  },
  async run({ args }) {
    if (/^https?:\/\//i.test(args.file)) return importFromFeed(args);
    if (/^\w+:\/\//.test(args.file)) throw new UsageError(`${args.file}: only http:// and https:// feeds can be fetched`);
    const file = args.file === "-" ? "<stdin>" : args.file;
    const { readRulesFile } = await import("../../blacklist/source.ts");
    const text = readRulesFile(args.file);
    const { parseRulesText, ruleCount } = await import("../../blacklist/parse.ts");
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
      const total = 2 * ruleCount(parsed);
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

/** "64M" → bytes. */
function sizeArg(s: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(s);
  const n = m ? Number(m[1]) * 1024 ** " KMG".indexOf((m[2] ?? " ")[0].toUpperCase()) : NaN;
  if (!(n > 0) || n > 2 ** 31) throw new UsageError(`--max-size must be a size from 1 byte to 2G (e.g. 512K, 64M), not "${s}"`);
  return n;
}

async function importFromFeed(args: { file: string; replace?: boolean; maxSize: string; timeout: string; force?: boolean; interface?: string; json?: boolean }) {
  const maxBytes = sizeArg(args.maxSize);
  const timeout = Number(args.timeout);
  if (!/^\d+(\.\d+)?$/.test(args.timeout) || timeout <= 0 || timeout > 3600) throw new UsageError(`--timeout must be seconds up to 3600, not "${args.timeout}"`);
  const { requireCaps } = await import("../../privileges.ts");
  requireCaps("xdptool blacklist");
  const { chooseInterface, freeIdleInBackground } = await import("../../blacklist/store.ts");
  const ifname = chooseInterface(args.interface);
  const { importFeed } = await import("../../blacklist/feeds.ts");
  const r = await importFeed(ifname, args.file, { replace: !!args.replace, force: !!args.force, maxBytes, timeoutMs: timeout * 1000, maxRedirects: 5 });
  if (r.status === "applied" && r.method === "rebuild") await freeIdleInBackground(ifname);
  if (args.json) return printJson(r);
  if (r.status === "unchanged") return console.log(`${ifname}: ${r.url}: unchanged (${r.why}); ${r.rules} rules from it, nothing applied`);
  const what = r.total === null ? `added ${r.added} rules` : r.replace ? `replaced the rule set with ${r.total} rules` : `now holds ${r.total} rules (${r.added} added, ${r.removed} the feed no longer lists removed)`;
  console.log(`${ifname}: ${r.url}: ${r.why ? `${r.why}; ` : ""}${r.rules} rules in ${r.bytes} bytes; ${what}, ${r.duplicates} already there`);
}
