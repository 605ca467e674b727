// The frames of exercise 5: sources inside and just outside the two blacklisted prefixes.
import { buildFrame, type Exercise } from "../lib.ts";

const from = (src: string) => buildFrame({ src, dst: "198.18.0.2", dport: 80, l4: "tcp" });

export default {
  source: "blacklist.bpf.c",
  read: "docs/05-advanced-maps.md (the LPM trie, and the blacklist built on it)",
  hint: "drop IPv4 packets from 198.18.7.0/24 and from 198.18.9.9; pass the rest; each drop adds one to its prefix's value.",
  frames: [
    { what: "from 198.18.7.1 (in 198.18.7.0/24)", frame: from("198.18.7.1"), verdict: "DROP" },
    { what: "from 198.18.8.1 (outside both prefixes)", frame: from("198.18.8.1"), verdict: "PASS" },
    { what: "from 198.18.7.200 (in 198.18.7.0/24)", frame: from("198.18.7.200"), verdict: "DROP" },
    { what: "from 198.18.9.9 (the /32)", frame: from("198.18.9.9"), verdict: "DROP" },
    { what: "from 198.18.9.10 (next to the /32)", frame: from("198.18.9.10"), verdict: "PASS", hint: "a lookup key has prefixlen 32 (the whole address): the trie then finds the longest stored prefix containing it, and 198.18.9.9/32 does not contain 198.18.9.10." },
    { what: "IPv6 from 2001:db8::7", frame: buildFrame({ src: "2001:db8::7", dst: "2001:db8::2" }), verdict: "PASS" },
  ],
  maps: [{
    name: "blacklist",
    seed: [{ key: { prefixlen: 24, addr: "198.18.7.0" }, value: 0 }, { key: { prefixlen: 32, addr: "198.18.9.9" }, value: 0 }],
    want: [{ key: { prefixlen: 24, addr: "198.18.7.0" }, value: 2 }, { key: { prefixlen: 32, addr: "198.18.9.9" }, value: 1 }],
    hint: "each dropped packet adds one to the value of the prefix that matched (__sync_fetch_and_add on the pointer the lookup returned).",
  }],
} satisfies Exercise;
