// bpftool-words.ts — the map commands as bpftool users type them, rewritten into xdptool's own
// arguments before parsing: `map lookup id 42 key 0 0 0 0`, `map update pinned P key hex 0a 00 00 01
// value 1 0 0 0 noexist`. Only words that cannot mean anything else are taken: a selector (`id`,
// `pinned`, `name`) right after the subcommand, `key`/`value` followed by byte words, and one of
// bpftool's update flags at the very end.

import { UsageError } from "../errors.ts";

const SUBS: Record<string, string> = { dump: "dump", get: "get", lookup: "get", update: "update", delete: "delete" };
const FLAGS: Record<string, string | null> = { any: null, exist: "--exist", noexist: "--noexist" };

/** A byte as bpftool reads one (strtoul base 0: 255, 0xff, 0377), or -1. After `hex`: hex digits. */
function byteOf(word: string, hex: boolean): number {
  const ok = hex ? /^[0-9a-f]{1,2}$/i.test(word) : /^(0x[0-9a-f]{1,2}|0[0-7]{0,3}|[1-9]\d{0,2})$/i.test(word);
  if (!ok) return -1;
  const n = hex ? parseInt(word, 16) : word.startsWith("0x") || word.startsWith("0X") ? parseInt(word, 16) : word.length > 1 && word[0] === "0" ? parseInt(word, 8) : parseInt(word, 10);
  return n <= 255 ? n : -1;
}

/** `key|value [hex] BYTE…` at argv[at]: the bytes as the raw text the codec takes ("0a 00 00 01"), and
 *  where the words after them start; null when argv[at] does not start such a group. */
function byteGroup(argv: string[], at: number, word: string): { text: string; next: number } | null {
  if (argv[at] !== word) return null;
  let i = at + 1;
  const hex = argv[i] === "hex";
  if (hex) i++;
  const bytes: number[] = [];
  for (; i < argv.length && byteOf(argv[i], hex) >= 0; i++) bytes.push(byteOf(argv[i], hex));
  if (!bytes.length) {
    if (argv[i] === undefined || argv[i].startsWith("-")) return null; // a KEY or VALUE that is the word itself
    throw new UsageError(`bad ${word} byte "${argv[i]}" in bpftool's form (${word} [hex] BYTE…, e.g. ${word} 0 0 0 1 or ${word} hex 0a 00 00 01)`);
  }
  const text = bytes.map((b) => b.toString(16).padStart(2, "0"));
  return { text: text.length === 1 ? `0x${text[0]}` : text.join(" "), next: i };
}

/** argv with bpftool's map words turned into xdptool's; anything else is returned as it was. */
export function bpftoolMapWords(argv: string[]): string[] {
  const [group, sub, how, what] = argv;
  if (group !== "map" || !(sub in SUBS)) return argv;
  const out = [group, SUBS[sub]];
  let i = 2;
  if (["id", "pinned", "name"].includes(how) && what !== undefined) {
    out.push(how === "id" ? `id ${what}` : what);
    i = 4;
  } else if (how !== undefined) {
    out.push(how);
    i = 3;
  }
  const key = byteGroup(argv, i, "key");
  if (key) {
    out.push(key.text);
    i = key.next;
    const value = SUBS[sub] === "update" ? byteGroup(argv, i, "value") : null;
    if (value) {
      out.push(value.text);
      i = value.next;
      if (i === argv.length - 1 && argv[i] in FLAGS) {
        const flag = FLAGS[argv[i]];
        if (flag) out.push(flag);
        i++;
      }
    }
  }
  return [...out, ...argv.slice(i)];
}
