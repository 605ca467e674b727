// netdev.ts — network device ioctls in the current network namespace: the MTU, and the device's
// own statistics (what `ethtool -S IF` prints, through SIOCETHTOOL). veth keeps per-queue XDP
// counts there that no BPF map can see: frames its receive ring refused, frames XDP_TX sent.
import { alloc, addr } from "./layout.ts";
import { errno, libc } from "./native.ts";
import { errnoName } from "./errno.ts";
import { OpError } from "../errors.ts";

const SIOCETHTOOL = 0x8946, SIOCGIFMTU = 0x8921;
const ETHTOOL_GSTRINGS = 0x1b, ETHTOOL_GSTATS = 0x1d, ETHTOOL_GSSET_INFO = 0x37;
const ETH_SS_STATS = 1, ETH_GSTRING_LEN = 32;
const AF_INET = 2, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0o2000000;
const IFNAMSIZ = 16, IFREQ_SIZE = 40;

function withSocket<T>(fn: (sock: number) => T): T {
  const sock = libc.symbols.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw new OpError(`socket: ${errnoName(errno())}`);
  try {
    return fn(sock);
  } finally {
    libc.symbols.close(sock);
  }
}

/** The interface's MTU (the largest L3 packet; a frame adds its link header). */
export function ifMtu(ifname: string): number {
  return withSocket((sock) => {
    const ifr = alloc(IFREQ_SIZE);
    ifr.write(ifname, 0, IFNAMSIZ - 1);
    if (libc.symbols.ioctl(sock, SIOCGIFMTU, addr(ifr)) !== 0) throw new OpError(`MTU of ${ifname}: ${errnoName(errno())}`);
    return ifr.readInt32LE(IFNAMSIZ);
  });
}

/** One SIOCETHTOOL call: `req` is the ethtool command struct, handed over through ifreq.ifr_data. */
function ethtool(sock: number, ifname: string, req: Buffer, what: string): void {
  const ifr = alloc(IFREQ_SIZE);
  ifr.write(ifname, 0, IFNAMSIZ - 1);
  // The address is taken right before the call and nothing allocates in between.
  ifr.writeBigUInt64LE(addr(req), IFNAMSIZ);
  if (libc.symbols.ioctl(sock, SIOCETHTOOL, addr(ifr)) !== 0) throw new OpError(`ethtool ${what} ${ifname}: ${errnoName(errno())}`);
}

/** The device's statistics by name (`ethtool -S`), as bigints. */
export function ethtoolStats(ifname: string): Map<string, bigint> {
  return withSocket((sock) => {
    // struct ethtool_sset_info { u32 cmd, reserved; u64 sset_mask; u32 data[]; }
    const info = alloc(20);
    info.writeUInt32LE(ETHTOOL_GSSET_INFO, 0);
    info.writeBigUInt64LE(1n << BigInt(ETH_SS_STATS), 8);
    ethtool(sock, ifname, info, "statistics count of");
    const n = info.readBigUInt64LE(8) ? info.readUInt32LE(16) : 0;
    if (n === 0) return new Map();
    // struct ethtool_gstrings { u32 cmd, string_set, len; u8 data[len * 32]; }
    const names = alloc(12 + n * ETH_GSTRING_LEN);
    names.writeUInt32LE(ETHTOOL_GSTRINGS, 0);
    names.writeUInt32LE(ETH_SS_STATS, 4);
    names.writeUInt32LE(n, 8);
    ethtool(sock, ifname, names, "statistics names of");
    // struct ethtool_stats { u32 cmd, n_stats; u64 data[n]; }
    const stats = alloc(8 + n * 8);
    stats.writeUInt32LE(ETHTOOL_GSTATS, 0);
    stats.writeUInt32LE(n, 4);
    ethtool(sock, ifname, stats, "statistics of");
    const out = new Map<string, bigint>();
    for (let i = 0; i < n; i++) {
      const raw = names.subarray(12 + i * ETH_GSTRING_LEN, 12 + (i + 1) * ETH_GSTRING_LEN);
      const end = raw.indexOf(0);
      out.set(raw.subarray(0, end < 0 ? raw.length : end).toString(), stats.readBigUInt64LE(8 + i * 8));
    }
    return out;
  });
}

/** The sum of the statistics whose names match `re` (e.g. every queue's `tx_queue_N_xdp_xmit_errors`). */
export function ethtoolSum(stats: Map<string, bigint>, re: RegExp): bigint {
  let sum = 0n;
  for (const [name, v] of stats) if (re.test(name)) sum += v;
  return sum;
}
