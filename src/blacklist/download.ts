// download.ts — fetch a rule feed over HTTP(S) for `blacklist import URL`: a conditional GET
// (If-None-Match / If-Modified-Since), redirects followed by hand up to a limit, one deadline for
// the whole transfer, and a size cap enforced while the body streams in (a feed that grows past
// it is cut off, not held in memory). Every failure is a FeedError whose message is one line.
import { OpError } from "../errors.ts";
import { VERSION } from "../version.ts";

export class FeedError extends OpError {}

export interface DownloadOptions {
  /** Largest body accepted, in bytes (after any Content-Encoding is undone). */
  maxBytes: number;
  /** Deadline for the whole exchange: connect, redirects, headers and body. */
  timeoutMs: number;
  maxRedirects: number;
  /** Validators from the last successful download: the server may answer 304. */
  etag?: string;
  lastModified?: string;
}

export type Download =
  | { notModified: true; url: string }
  | { notModified: false; url: string; body: Buffer; etag?: string; lastModified?: string };

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** The URL as messages and metrics show it: without a user name and password. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = u.password = "";
    return u.href;
  } catch {
    return url;
  }
}

/** "https://h/p: reason" */
function fail(url: string, reason: string): FeedError {
  return new FeedError(`${publicUrl(url)}: ${reason}`);
}

/** A fetch() rejection in words: the TLS, DNS or socket error code the runtime gives, or a timeout. */
function reasonOf(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === "TimeoutError" || err.name === "AbortError") return `timed out after ${timeoutMs / 1000} s`;
  const msg = (err.message ?? String(e)).split("\n")[0].replace(/\s*For more information, pass .*$/, ""); // Bun's advice to a programmer
  return err.code && typeof err.code === "string" && !msg.includes(err.code) ? `${err.code}: ${msg}` : msg;
}

/** The body, read chunk by chunk, refused as soon as it passes maxBytes. */
async function readCapped(url: string, res: Response, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  // Only meaningful without Content-Encoding: a compressed feed's length is not its size.
  if (!res.headers.get("content-encoding") && declared > maxBytes) {
    await res.body?.cancel();
    throw fail(url, `feed is ${declared} bytes, more than --max-size ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        throw fail(url, `feed is larger than --max-size ${maxBytes} bytes; nothing read from it was used`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof FeedError) throw e;
    throw fail(url, `download cut short after ${total} bytes (${reasonOf(e, timeoutMs)})`);
  }
  if (!res.headers.get("content-encoding") && Number.isFinite(declared) && total !== declared) {
    throw fail(url, `download cut short: ${total} of ${declared} bytes`);
  }
  return Buffer.concat(chunks, total);
}

/** GET `url`, following redirects; 304 (with validators sent) is `notModified`. */
export async function download(url: string, opts: DownloadOptions): Promise<Download> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const headers: Record<string, string> = { "user-agent": `xdptool/${VERSION}`, accept: "text/plain, */*" };
  if (opts.etag) headers["if-none-match"] = opts.etag;
  if (opts.lastModified) headers["if-modified-since"] = opts.lastModified;
  let at = url;
  for (let hops = 0; ; hops++) {
    let res: Response;
    try {
      res = await fetch(at, { headers, redirect: "manual", signal });
    } catch (e) {
      throw fail(at, reasonOf(e, opts.timeoutMs));
    }
    if (REDIRECT.has(res.status)) {
      await res.body?.cancel();
      const to = res.headers.get("location");
      if (!to) throw fail(at, `HTTP ${res.status} redirect without a Location`);
      if (hops >= opts.maxRedirects) throw fail(url, `more than ${opts.maxRedirects} redirects (last to ${to})`);
      const next = new URL(to, at);
      if (next.protocol !== "http:" && next.protocol !== "https:") throw fail(at, `redirect to ${next.protocol} URL refused (only http and https)`);
      at = next.href;
      continue;
    }
    if (res.status === 304 && (opts.etag || opts.lastModified)) {
      await res.body?.cancel();
      return { notModified: true, url: at };
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw fail(at, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`);
    }
    const body = await readCapped(at, res, opts.maxBytes, opts.timeoutMs);
    return { notModified: false, url: at, body, etag: res.headers.get("etag") ?? undefined, lastModified: res.headers.get("last-modified") ?? undefined };
  }
}
