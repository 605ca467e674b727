// feeds.ts — `blacklist import URL`: a blocklist feed applied to an interface's blacklist, and
// what is remembered of each feed between runs (validators for conditional requests, the body last
// applied, when it last succeeded) in $XDPTOOL_STATE_DIR/feeds.json (default /var/lib/xdptool).
//
// A feed's rules follow the feed: a merge adds what it lists now and removes what it listed last
// time and no longer does (its last applied body is kept beside the state file to know that);
// rules from anywhere else stay. --replace makes the blacklist exactly the feed.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { lockFile, withLock } from "../ffi/lock.ts";
import { download, FeedError, publicUrl } from "./download.ts";
import { parseRulesText, ruleAt, ruleCount, type ParsedFile } from "./parse.ts";
import { ruleKey, type Rule } from "./rules.ts";
import { importRules, withBlacklist, type ImportSummary } from "./store.ts";

export const DEFAULT_STATE_DIR = "/var/lib/xdptool";
export const stateDir = (): string => process.env.XDPTOOL_STATE_DIR || DEFAULT_STATE_DIR;
export const statePath = (): string => join(stateDir(), "feeds.json");

/** What is remembered of one feed on one interface. Times are ISO strings. */
export interface FeedState {
  url: string;
  interface: string;
  etag?: string;
  lastModified?: string;
  /** sha256 of the body last applied: a server that ignores validators still is not re-applied. */
  sha256?: string;
  /** Rules the feed held when last applied. */
  rules: number;
  bytes: number;
  lastSuccess?: string;
  /** The last time the feed was checked, whatever came of it. */
  lastAttempt: string;
  /** Why the last attempt failed; absent when it succeeded. */
  lastError?: string;
}

const key = (ifname: string, url: string) => `${ifname} ${url}`;

export function readFeedStates(): Record<string, FeedState> {
  const p = statePath();
  if (!existsSync(p)) return {};
  try {
    const doc = JSON.parse(readFileSync(p, "utf8"));
    return doc && typeof doc.feeds === "object" ? doc.feeds : {};
  } catch (e) {
    throw new UsageError(`${p}: not a feed state file (${(e as Error).message}); remove it to start afresh`);
  }
}

/** Change one feed's entry, under a lock (several imports at once), written atomically. */
function updateState(k: string, change: (old: FeedState | undefined) => FeedState): void {
  mkdirSync(stateDir(), { recursive: true, mode: 0o755 });
  withLock(lockFile("feeds"), () => {
    const all = readFeedStates();
    all[k] = change(all[k]);
    const tmp = `${statePath()}.tmp${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ version: 1, feeds: all }, null, 2) + "\n");
    renameSync(tmp, statePath());
  });
}

/** The body last applied from a feed to an interface. */
function bodyPath(k: string): string {
  return join(stateDir(), "feeds", `${createHash("sha256").update(k).digest("hex").slice(0, 24)}.rules`);
}

/** The rules of a feed as last applied to an interface (its saved copy), [] when it never was:
 *  `apply` keeps them as the file's own (they follow the feed, not the file) and then refreshes
 *  the feed, so a boot with no network yet still gets the feed's last rules. */
export function lastFeedRules(ifname: string, url: string): Rule[] {
  const path = bodyPath(key(ifname, url));
  if (!existsSync(path)) return [];
  try {
    const parsed = parseRulesText(readFileSync(path, "latin1"), path);
    return Array.from({ length: ruleCount(parsed) }, (_, i) => ruleAt(parsed, i));
  } catch {
    return []; // a copy that no longer parses is ignored (the refresh downloads it again)
  }
}

/** A rule's identity for comparing two versions of a feed, cheap to make for the bare prefixes
 *  that are most of a big list: a number for an IPv4 source prefix, the bytes for an IPv6 one,
 *  the canonical text (ruleKey) for anything else. A full rule that is a plain source prefix
 *  ("198.18.1.0/24 --ttl 1h" in an export) gets the bare form's key: it owns the same entry. */
function diffKey(parsed: ParsedFile, i: number): number | string {
  const full = parsed.rules.length, b4 = parsed.bare4;
  if (i >= full && i < full + b4.n) return b4.addr[i - full] * 64 + b4.len[i - full];
  if (i >= full + b4.n) {
    const j = i - full - b4.n;
    return Buffer.from(parsed.bare6.addr.buffer, parsed.bare6.addr.byteOffset + j * 16, 16).toString("latin1") + String.fromCharCode(parsed.bare6.len[j]);
  }
  const r = parsed.rules[i], m = r.match;
  if (!r.allow && m.kind === "prefix" && m.dir === "src" && r.l4.kind === "none") {
    const a = m.prefix.addr;
    if (m.prefix.family === 4) return (((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0) * 64 + m.prefix.len;
    return Buffer.from(a).toString("latin1") + String.fromCharCode(m.prefix.len);
  }
  return ruleKey(r);
}

/** The rules of `prev` that `next` no longer lists. */
function noLongerListed(prev: ParsedFile, next: ParsedFile): Rule[] {
  const listed = new Set<number | string>();
  for (let i = 0, n = ruleCount(next); i < n; i++) listed.add(diffKey(next, i));
  const out: Rule[] = [];
  for (let i = 0, n = ruleCount(prev); i < n; i++) if (!listed.has(diffKey(prev, i))) out.push(ruleAt(prev, i));
  return out;
}

export interface FeedOptions {
  replace: boolean;
  /** Download and apply even if the feed looks unchanged. */
  force: boolean;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

type Why = "304 not modified" | "same content";

export type FeedResult =
  | { interface: string; url: string; status: "unchanged"; why: Why; rules: number; lastSuccess?: string }
  /** why: set when the feed was unchanged but its rules had gone from the blacklist. */
  | ({ status: "applied"; url: string; rules: number; bytes: number; why?: string } & ImportSummary);

/** Fetch a feed and apply it; throws FeedError (exit 1) with the live rules untouched on any failure. */
export async function importFeed(ifname: string, url: string, opts: FeedOptions): Promise<FeedResult> {
  const k = key(ifname, url), path = bodyPath(k);
  const old = readFeedStates()[k];
  const now = () => new Date().toISOString();
  // Recorded (the metrics show it), and said in one line: nothing was changed.
  const failed = (e: unknown) => {
    if (!(e instanceof Error) || !("exitCode" in e)) return e; // a bug: keep its stack
    const reason = e.message.replace(/^(\S+): no rules in it .*/, "$1: the feed lists no rules (empty, or comments only)");
    updateState(k, (o) => ({ url, interface: ifname, rules: 0, bytes: 0, ...o, lastAttempt: now(), lastError: reason }));
    return new FeedError(`${reason}; the blacklist was left as it was`);
  };
  const prevBody = old && existsSync(path) ? readFileSync(path) : undefined;
  const conditional = prevBody && !opts.force;
  let dl;
  try {
    dl = await download(url, { ...opts, etag: conditional ? old.etag : undefined, lastModified: conditional ? old.lastModified : undefined });
  } catch (e) {
    throw failed(e);
  }
  const unchanged = (why: Why): FeedResult => {
    updateState(k, (o) => ({ ...o!, lastAttempt: now(), lastSuccess: now(), lastError: undefined }));
    return { interface: ifname, url: publicUrl(url), status: "unchanged", why, rules: old!.rules, lastSuccess: old!.lastSuccess };
  };
  let parsed: ParsedFile, drop: Rule[] | undefined, prev: ParsedFile | undefined;
  const sha256 = dl.notModified ? old!.sha256! : createHash("sha256").update(dl.body).digest("hex");
  const why: Why | null = dl.notModified ? "304 not modified" : conditional && sha256 === old.sha256 ? "same content" : null;
  if (prevBody && (why || !opts.replace)) {
    try {
      prev = parseRulesText(prevBody.toString("latin1"), path);
    } catch {
      // The kept copy is damaged: without it nothing can be compared, so fetch the feed afresh.
      if (why) return importFeed(ifname, url, { ...opts, force: true });
    }
  }
  try {
    // Unchanged, and its rules still there: nothing to do. Gone (a flush, a re-attach, a reboot
    // that kept /var/lib): the copy kept from the last download is applied, nothing downloaded.
    if (why && stillApplied(ifname, prev!)) return unchanged(why);
    const body = why ? prevBody! : (dl as { body: Buffer }).body;
    parsed = why ? prev! : parseRulesText(body.toString("latin1"), publicUrl(url));
    if (prev && !opts.replace) drop = noLongerListed(prev, parsed);
  } catch (e) {
    throw failed(e); // a parse error is the feed's fault: exit 1, not 2
  }
  let s: ImportSummary;
  try {
    s = withBlacklist(ifname, (bl) => importRules(ifname, bl, parsed, opts.replace, drop));
  } catch (e) {
    throw failed(e);
  }
  const rules = ruleCount(parsed);
  if (why) {
    updateState(k, (o) => ({ ...o!, lastAttempt: now(), lastSuccess: now(), lastError: undefined }));
    return { ...s, status: "applied", url: publicUrl(url), rules, bytes: prevBody!.length, why: `${why}, but its rules were missing: the copy kept from the last download was applied` };
  }
  const got = dl as Extract<typeof dl, { notModified: false }>;
  mkdirSync(join(stateDir(), "feeds"), { recursive: true, mode: 0o755 });
  writeFileSync(`${path}.tmp`, got.body);
  renameSync(`${path}.tmp`, path);
  updateState(k, () => ({ url, interface: ifname, etag: got.etag, lastModified: got.lastModified, sha256, rules, bytes: got.body.length, lastSuccess: now(), lastAttempt: now() }));
  return { ...s, status: "applied", url: publicUrl(url), rules, bytes: got.body.length };
}

/** Are the rules of a feed's last copy still in the blacklist? Up to 64 of them, spread over the
 *  list, are looked up (a few lookups each): a flushed or re-created blacklist misses them all. */
function stillApplied(ifname: string, parsed: ParsedFile): boolean {
  const n = ruleCount(parsed), probes = Math.min(n, 64);
  return withBlacklist(ifname, (bl) => {
    for (let j = 0; j < probes; j++) if (bl.locate(ruleAt(parsed, Math.floor((j * n) / probes))) === null) return false;
    return true;
  });
}
