// top.ts — the rules with the most packets, for `blacklist list --top` and the metrics' top-N series.
import { clockNs } from "../ffi/clock.ts";
import type { BlacklistMaps } from "./maps.ts";
import { matchText } from "./view.ts";
import { ruleWords } from "./rules.ts";

/** What ranking looks at: packets, then the earlier id first. */
export interface Ranked {
  id: number;
  packets: number;
}

/** The n rules with the most packets (ties: the earlier rule first), in a bounded min-heap. */
export class TopN<T extends Ranked> {
  private readonly h: T[] = [];
  constructor(private readonly n: number) {}
  private less(a: Ranked, b: Ranked): boolean {
    return a.packets < b.packets || (a.packets === b.packets && a.id > b.id);
  }
  /** Would a rule with these hits get in? (Ask before building what to offer.) */
  admits(packets: number, id: number): boolean {
    return this.h.length < this.n || this.less(this.h[0], { packets, id });
  }
  offer(l: T): void {
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
  sorted(): T[] {
    return [...this.h].sort((a, b) => (this.less(a, b) ? 1 : -1));
  }
}

export interface TopRule extends Ranked {
  rule: string;
  action: "deny" | "allow";
  bytes: number;
}

/** The n live rules with the most packets, read only (expired rules are skipped, not freed): one
 *  scan of the live generation, a rule's text made only when it ranks. */
export function topRules(bl: BlacklistMaps, n: number): TopRule[] {
  const best = new TopN<TopRule>(n), now = clockNs();
  if (n > 0) bl.scan((v) => {
    if (v.expires && v.expires <= now) return;
    const h = v.hits ?? bl.hits(v.id);
    if (!best.admits(h.packets, v.id)) return;
    best.offer({ id: v.id, packets: h.packets, bytes: h.bytes, rule: ruleWords(v.allow, matchText(v), v.dst, v.l4), action: v.allow ? "allow" : "deny" });
  }, undefined, true);
  return best.sorted();
}
