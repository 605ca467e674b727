import { defineCommand } from "citty";
import { intArg, jsonArg } from "../../cli.ts";
import { UsageError } from "../../errors.ts";
import { table, writeAll } from "../../table.ts";
import { ifaceArg } from "./_shared.ts";
import type { Listed } from "../../blacklist/store.ts";

export default defineCommand({
  meta: {
    name: "list",
    description: `Rules with their counters: packets, bytes and time of the last hit.

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
        const best = new TopN(top + offset);
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
    const t = table(["ID", "RULE", "TTL", "PACKETS", "BYTES", "LAST HIT"], rows);
    writeAll((any ? t.slice(t.indexOf("\n") + 1) : t) + "\n");
    any = true;
    rows = [];
  };
  return {
    row(r: Listed) {
      rows.push([r.id, r.rule, r.ttl === null ? "-" : `${r.ttl}s`, r.packets, r.bytes, r.lastHit ?? "-"]);
      if (rows.length >= 8192) flush();
    },
    end() {
      flush();
      if (!any) console.log(`${ifname}: no rules`);
    },
  };
}

/** The n rules with the most packets (ties: the earlier rule first), in a bounded min-heap. */
class TopN {
  private readonly h: Listed[] = [];
  constructor(private readonly n: number) {}
  private less(a: Listed, b: Listed): boolean {
    return a.packets < b.packets || (a.packets === b.packets && a.id > b.id);
  }
  offer(l: Listed): void {
    const h = this.h;
    if (h.length < this.n) {
      h.push(l);
      for (let i = h.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (!this.less(h[i], h[p])) break;
        [h[i], h[p]] = [h[p], h[i]];
        i = p;
      }
    } else if (this.less(h[0], l)) {
      h[0] = l;
      for (let i = 0; ; ) {
        const a = 2 * i + 1, b = a + 1;
        let m = i;
        if (a < h.length && this.less(h[a], h[m])) m = a;
        if (b < h.length && this.less(h[b], h[m])) m = b;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
  }
  sorted(): Listed[] {
    return [...this.h].sort((a, b) => (this.less(a, b) ? 1 : -1));
  }
}
