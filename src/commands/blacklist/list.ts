import { defineCommand, intArg, jsonArg } from "../../cli/define.ts";
import { UsageError } from "../../errors.ts";
import { table, writeAll } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";
import type { Listed } from "../../blacklist/store.ts";
import { TopN } from "../../blacklist/top.ts";

export default defineCommand({
  meta: {
    name: "list",
    description: `Rules with their counters: packets, bytes and time of the last hit, and comments.

  A packet is counted on the rule that decided it: the first deny rule that matched, or the
  allow rule that let it pass. Rules come in the order they were added; --top orders them by
  packets instead. A million rules stream out in constant memory. Expired rules are removed as
  a side effect. --json also gives the blacklist's totals and the kernel memory it takes.

  Examples:
    xdptool blacklist list
    xdptool blacklist list --top 20                 # the 20 rules that matched most packets
    xdptool blacklist list --limit 100 --offset 200 # rules 201-300
    xdptool blacklist list --json | jq '.rules[] | select(.packets > 0)'`,
  },
  args: {
    ...ifaceArg,
    top: { type: "string", description: "Only the N rules with the most packets, most first" },
    limit: { type: "string", description: "At most N rules" },
    offset: { type: "string", description: "Skip the first N rules (of the order shown)" },
    ...jsonArg,
  },
  async run({ args }) {
    const top = args.top === undefined ? undefined : intArg("top", args.top, 1, 10_000_000);
    const limit = args.limit === undefined ? Infinity : intArg("limit", args.limit, 0, 2 ** 32);
    const offset = args.offset === undefined ? 0 : intArg("offset", args.offset, 0, 2 ** 32);
    if (top !== undefined && args.limit !== undefined) throw new UsageError("--top and --limit both cut the list: give one");
    const { requireCaps } = await import("../../privileges.ts");
    requireCaps("xdptool blacklist");
    const { chooseInterface, withBlacklist, eachListed, summarize } = await import("../../blacklist/store.ts");
    const ifname = chooseInterface(args.interface);
    withBlacklist(ifname, (bl) => {
      const out = args.json ? jsonWriter(ifname, summarize(bl)) : textWriter(ifname);
      const take = window(offset, top === undefined ? limit : Infinity, out.row);
      if (top === undefined) eachListed(bl, take);
      else {
        const best = new TopN<Listed>(top + offset);
        eachListed(bl, (l) => best.offer(l));
        for (const l of best.sorted()) take(l);
      }
      out.end();
    });
  },
});

/** Rows from offset on, at most limit of them. */
function window(offset: number, limit: number, row: (l: Listed) => void): (l: Listed) => void {
  let seen = 0;
  return (l) => {
    const i = seen++;
    if (i >= offset && i - offset < limit) row(l);
  };
}

/** JSON written as it goes: the totals first, then one compact rule per line (same JSON to jq). */
function jsonWriter(ifname: string, summary: object) {
  let n = 0, buf: string[] = [];
  const head = JSON.stringify({ interface: ifname, summary }, null, 2);
  writeAll(head.slice(0, -2) + ',\n  "rules": [');
  const flush = () => {
    if (buf.length) writeAll(buf.join(""));
    buf = [];
  };
  return {
    row(l: Listed) {
      buf.push((n++ ? ",\n    " : "\n    ") + JSON.stringify(l));
      if (buf.length >= 10_000) flush();
    },
    end() {
      flush();
      writeAll(n ? "\n  ]\n}\n" : "]\n}\n");
    },
  };
}

/** The table, aligned per page of rows so output starts at once. */
function textWriter(ifname: string) {
  let rows: (string | number)[][] = [], any = false;
  const flush = () => {
    if (!rows.length) return;
    const t = table(["ID", "RULE", "TTL", "PACKETS", "BYTES", "LAST HIT", "COMMENT"], rows);
    writeAll((any ? t.slice(t.indexOf("\n") + 1) : t) + "\n");
    any = true;
    rows = [];
  };
  return {
    row(r: Listed) {
      rows.push([r.id, r.rule, r.ttl === null ? "-" : `${r.ttl}s`, r.packets, r.bytes, r.lastHit ?? "-", r.comment ?? "-"]);
      if (rows.length >= 8192) flush();
    },
    end() {
      flush();
      if (!any) console.log(`${ifname}: no rules`);
    },
  };
}
