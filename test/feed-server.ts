// feed-server.ts — the HTTP(S) server feeds.test.ts fetches from, run as a child process (the
// test runs xdptool synchronously, which would stall a server in its own event loop). Serves
// test/fixtures/feeds/NAME with an ETag and a Last-Modified it honours, and the failures real
// feeds show. Prints "PORT TLSPORT RAWPORT" once listening.
//   bun test/feed-server.ts CERT.pem KEY.pem
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FIX = join(import.meta.dir, "fixtures/feeds");
const LAST_MODIFIED = "Tue, 01 Dec 2026 09:31:52 GMT";
/** Full bodies (200) sent, and 304s, per path: what the test checks conditional requests with. */
const hits: Record<string, { full: number; notModified: number }> = {};
let changing = "198.18.90.1\n198.18.91.0/24\n";

function count(path: string, kind: "full" | "notModified") {
  (hits[path] ??= { full: 0, notModified: 0 })[kind]++;
}

/** A body with validators: /feeds/NAME has both, /lm/NAME only Last-Modified. */
function conditional(req: Request, path: string, body: string, etagToo: boolean): Response {
  const etag = `"${Bun.hash(body).toString(16)}"`;
  const fresh = etagToo ? req.headers.get("if-none-match") === etag : req.headers.get("if-modified-since") === LAST_MODIFIED;
  if (fresh) {
    count(path, "notModified");
    return new Response(null, { status: 304 });
  }
  count(path, "full");
  return new Response(body, { headers: { "last-modified": LAST_MODIFIED, ...(etagToo ? { etag } : {}), "content-type": "text/plain" } });
}

async function handle(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === "/hits") return Response.json(hits);
  if (path === "/changing" && req.method === "PUT") {
    changing = await req.text();
    return new Response("ok\n");
  }
  if (path === "/changing") return conditional(req, path, changing, true);
  if (path === "/error") return new Response("internal error\n", { status: 500 });
  if (path === "/garbage") return new Response("<html><body><h1>503 Service Unavailable</h1></body></html>\n");
  if (path === "/empty") return new Response("# nothing listed today\n");
  if (path === "/big") return new Response("198.18.70.1\n".repeat(100_000)); // 1.2 MB
  if (path === "/loop") return Response.redirect("/loop", 302);
  if (path === "/moved") return Response.redirect("/feeds/drop.txt", 301);
  if (path === "/slow") {
    await Bun.sleep(10_000);
    return new Response("198.18.71.1\n");
  }
  const m = /^\/(feeds|lm)\/([\w.-]+)$/.exec(path);
  if (!m) return new Response("not found\n", { status: 404 });
  let body: string;
  try {
    body = readFileSync(join(FIX, m[2]), "utf8");
  } catch {
    return new Response("not found\n", { status: 404 });
  }
  return conditional(req, path, body, m[1] === "feeds");
}

const [cert, key] = process.argv.slice(2);
const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
const tls = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle, tls: { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") } });
// A body cut short: Content-Length promises more than is sent before the connection closes.
const raw = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(s) {
      s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4000\r\nConnection: close\r\n\r\n198.18.80.1\n198.18.80.2\n198.18.8");
      s.end();
    },
  },
});
console.log(`${plain.port} ${tls.port} ${raw.port}`);
