// notes.ts — rules' comments (`--comment`) in bl_notes, by rule id. Why there and not in a file:
// bpf/include/blacklist_maps.h and docs/04. The program never reads them; a rule set swap gives
// the new generation's ids their comments before the switch (notesForSwap), so a rule and its
// comment are seen together or not at all; deleting a rule (del, gc) drops its comment with it.
import { OpError } from "../errors.ts";
import type { BpfMap } from "../ffi/map.ts";
import { NOTE_MAX, NOTES } from "./layout.ts";
import { ruleKey, type Rule } from "./rules.ts";
import { CHUNK, u32 } from "./tables.ts";
import type { BlacklistMaps } from "./maps.ts";

function encode(text: string): Buffer {
  const b = Buffer.alloc(NOTE_MAX);
  b.write(text, "utf8"); // checked to fit by checkComment
  return b;
}

function decode(v: Buffer): string {
  const end = v.indexOf(0);
  return v.toString("utf8", 0, end < 0 ? NOTE_MAX : end);
}

/** Every comment, by rule id (few: only rules that have one). */
export function readNotes(m: BpfMap): Map<number, string> {
  const out = new Map<number, string>();
  m.lookupBatch(CHUNK, (keys, values, n) => {
    for (let i = 0; i < n; i++) out.set(keys.readUInt32LE(i * 4), decode(values.subarray(i * NOTE_MAX, (i + 1) * NOTE_MAX)));
  });
  return out;
}

/** Give rule `id` this comment; "" takes its comment away. */
export function setNote(m: BpfMap, id: number, text: string): void {
  if (!text) {
    m.delete(u32(id));
    return;
  }
  try {
    m.update(u32(id), encode(text));
  } catch (e) {
    if (m.lookup(u32(id)) === null && readNotes(m).size >= NOTES) throw new OpError(`the blacklist holds at most ${NOTES} comments; the rule was added without its comment`);
    throw e;
  }
}

export function dropNote(m: BpfMap, id: number): void {
  m.delete(u32(id));
}

/** Drop the comments of ids lo ≤ id < hi (a generation being emptied). */
export function dropNotesIn(m: BpfMap, lo: number, hi: number): void {
  for (const id of readNotes(m).keys()) if (id >= lo && id < hi) m.delete(u32(id));
}

/**
 * The comments a new rule set takes, by rule: a rule given with a comment takes that one ("" =
 * none); a rule given without one keeps the comment it has in the live set, if it is there.
 * Returns what writes them into generation `gen` once it is built (before it is switched to).
 * Checked here, before anything is built: more comments than bl_notes holds is an error.
 */
export function notesForSwap(bl: BlacklistMaps, rules: Iterable<Rule>): (gen: number) => void {
  const m = bl.maps.bl_notes;
  const live = readNotes(m);
  const want = new Map<string, { rule: Rule; text: string }>();
  if (live.size) for (const r of bl.read(undefined, new Set(live.keys()))) want.set(ruleKey(r), { rule: r, text: live.get(r.id)! });
  for (const r of rules) if (r.comment !== undefined) want.set(ruleKey(r), { rule: r, text: r.comment });
  let n = 0;
  for (const w of want.values()) if (w.text) n++;
  if (n + live.size > NOTES) throw new OpError(`the rules have ${n} comments and the live set ${live.size}: more than the ${NOTES} the blacklist holds during a swap; nothing was changed`);
  return (gen) => {
    for (const w of want.values()) {
      if (!w.text) continue;
      const id = bl.locate(w.rule, gen);
      if (id) setNote(m, id, w.text);
    }
  };
}

/** Before rules are added one by one: their comments fit beside the ones there (or nothing is added). */
export function checkNoteRoom(bl: BlacklistMaps, rules: Iterable<Rule>): void {
  let n = 0;
  for (const r of rules) if (r.comment) n++;
  if (!n) return;
  const have = readNotes(bl.maps.bl_notes).size;
  if (n + have > NOTES) throw new OpError(`the blacklist holds at most ${NOTES} comments (${have} there, ${n} new); nothing was added`);
}
