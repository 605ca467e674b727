// ports.ts — the port part of a rule as people write it: `53`, `53/udp`, `80,443/tcp`,
// `8000-8010/tcp`, `ssh`, `domain/udp`, `http,https`. Each port becomes a rule of its own (one
// map entry each, as the program looks ports up exactly), so a range is capped.
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.ts";

/** Most ports one rule line may name (a range expands to one rule per port). */
export const MAX_PORTS = 1024;

/** Well-known names, so a rule reads the same on every host (tcpdump's come from /etc/services,
 *  which is looked up too, for any name not here). */
const SERVICES: Record<string, number> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, dns: 53, http: 80, www: 80, pop3: 110, ntp: 123, netbios: 139,
  imap: 143, snmp: 161, bgp: 179, ldap: 389, https: 443, smb: 445, submission: 587, ldaps: 636, imaps: 993, pop3s: 995,
  openvpn: 1194, mssql: 1433, mysql: 3306, rdp: 3389, sip: 5060, postgresql: 5432, redis: 6379, "http-alt": 8080, memcached: 11211,
};

function service(name: string): number | undefined {
  const n = name.toLowerCase();
  if (n in SERVICES) return SERVICES[n];
  try {
    for (const line of readFileSync("/etc/services", "utf8").split("\n")) {
      const [svc, pp, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
      if (!pp) continue;
      if (svc.toLowerCase() === n || aliases.some((a) => a.toLowerCase() === n)) return Number(pp.split("/")[0]);
    }
  } catch {
    // no /etc/services: the built-in names only
  }
  return undefined;
}

function onePort(s: string, whole: string): number {
  if (/^\d{1,5}$/.test(s) && Number(s) <= 65535) return Number(s);
  const p = /^[a-z][a-z0-9-]*$/i.test(s) ? service(s) : undefined;
  if (p === undefined) throw new UsageError(`invalid port "${s}" in "${whole}" (0-65535 or a service name such as ssh, domain, https)`);
  return p;
}

/** `LIST[/tcp|/udp|/both]`, LIST = items separated by commas, an item a port, a range A-B or a service name. */
export function parsePorts(s: string): { ports: number[]; protos: (6 | 17)[] } {
  const m = s.match(/^([^/]+)(?:\/(tcp|udp|both))?$/i);
  if (!m) throw new UsageError(`invalid port "${s}" (PORT, PORT/tcp, PORT/udp; lists 80,443 and ranges 8000-8010 too)`);
  const ports = new Set<number>();
  for (const item of m[1].split(",")) {
    const r = item.match(/^(\d{1,5})-(\d{1,5})$/);
    if (r) {
      const [a, b] = [onePort(r[1], s), onePort(r[2], s)];
      if (a > b) throw new UsageError(`invalid port range "${item}": ${a} is above ${b}`);
      if (b - a + 1 > MAX_PORTS) throw new UsageError(`port range "${item}" is ${b - a + 1} ports; a rule names at most ${MAX_PORTS} (each port is an entry of its own)`);
      for (let p = a; p <= b; p++) ports.add(p);
    } else {
      ports.add(onePort(item, s));
    }
    if (ports.size > MAX_PORTS) throw new UsageError(`"${s}" names more than ${MAX_PORTS} ports; a rule names at most ${MAX_PORTS}`);
  }
  const p = (m[2] ?? "both").toLowerCase();
  return { ports: [...ports], protos: p === "tcp" ? [6] : p === "udp" ? [17] : [6, 17] };
}
