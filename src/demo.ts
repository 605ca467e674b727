// demo.ts — `xdptool lab demo`: every capability once, on the lab, with what happened printed.
import { labAttachGenerator, labConfig, labDown, labUp } from "./lab.ts";
import { resolveIface } from "./ffi/netns.ts";
import { attach, detach } from "./attach.ts";
import { embeddedObject } from "./embedded.ts";
import { buildFrame } from "./net/packet.ts";
import { sendFrames } from "./traffic.ts";
import { readCounters } from "./stats.ts";

const say = (s: string) => console.log(`» ${s}`);

export async function runDemo(name?: string, keep = false): Promise<void> {
  const lab = labConfig(name);
  say(`lab ${lab.name}: ${labUp(lab)} — ${lab.gen.ifname} (${lab.gen.ipv4}) ⇄ ${lab.dut.ifname} (${lab.dut.ipv4})`);
  try {
    await labAttachGenerator(lab);
    const dut = resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
    const r = attach({ iface: dut, image: embeddedObject("hello")!, objectName: "hello" });
    say(`loaded hello on ${dut.name}: program id ${r.progId}, ${r.mode} mode, pinned in ${r.pinDir}`);
    const gen = resolveIface(`${lab.gen.ns}/${lab.gen.ifname}`);
    const frame = buildFrame({ src: lab.gen.ipv4, dst: lab.dut.ipv4, srcMac: lab.gen.mac, dstMac: lab.dut.mac, l4: "udp", dport: 9 });
    const sent = sendFrames(gen.ifindex, frame, 100_000);
    say(`sent ${sent.frames} UDP frames with LIVE_FRAMES in ${sent.seconds.toFixed(3)} s (${(sent.pps / 1e6).toFixed(2)} Mpps)`);
    resolveIface(`${lab.dut.ns}/${lab.dut.ifname}`);
    const c = readCounters(dut.name);
    say(`hello counted: ${c.pass.packets} passed, of them ${c.udp.packets} UDP (${c.ipv4.packets} IPv4, ${c.ipv6.packets} IPv6)`);
    const d = detach(dut);
    say(`unloaded ${d.progName} from ${dut.name}`);
  } finally {
    if (!keep) {
      labDown(lab);
      say(`lab ${lab.name} removed`);
    }
  }
}
