// feed-helpers.ts — start test/feed-server.ts (a child process: the tests run xdptool
// synchronously, which would stall a server in their own event loop) with a fresh self-signed
// certificate, on the root namespace's loopback where xdptool runs.
import { join } from "node:path";
import { ROOT, sh } from "./helpers.ts";
import { enterNetns } from "../src/ffi/netns.ts";

export interface FeedServer {
  http: string;
  https: string;
  /** A server that promises more bytes than it sends. */
  raw: string;
  cert: string;
  stop: () => void;
}

export async function startFeedServer(tmp: string): Promise<FeedServer> {
  const cert = join(tmp, "cert.pem"), key = join(tmp, "key.pem");
  const ssl = sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"]);
  if (ssl.code !== 0) throw new Error(`openssl: ${ssl.stderr}`);
  enterNetns(null);
  const server = Bun.spawn([process.execPath, join(ROOT, "test/feed-server.ts"), cert, key], { stdout: "pipe", stderr: "inherit" });
  const reader = server.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("feed server did not start");
    line += new TextDecoder().decode(value);
  }
  const [p, t, r] = line.trim().split(" ");
  return { http: `http://127.0.0.1:${p}`, https: `https://127.0.0.1:${t}`, raw: `http://127.0.0.1:${r}`, cert, stop: () => server.kill() };
}
