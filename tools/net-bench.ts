// Guest↔host TCP throughput over the user-mode network, lkvm beside QEMU's user networking
// (slirp) on the same kernel and initramfs: `node build/tools/net-bench.mjs [MiB]`.
// The guest downloads MiB from a host HTTP server (wget -O /dev/null) and uploads a file of MiB
// from tmpfs to it (wget --post-file, which writes the file in one go); each figure is the wall
// time from typing the command to its marker. (busybox nc writes 1 KiB at a time, so `dd | nc`
// measures the guest's system calls rather than the network: 0.2-0.4 MiB/s under lkvm.)

import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GuestSession } from "../src/testing/guest-session.ts";
import { QEMU, QEMU_MACHINE, startQemuSession } from "./qemu-session.ts";
import { timeAtPrompt } from "./timed-command.ts";

const MiB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 64);
const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const PROMPT = /[~/] ?# /;

const chunk = Buffer.alloc(MiB);
const http = createHttpServer((req, res) => {
  if (req.method === "POST") {
    req.resume();
    req.on("end", () => res.end("ok\n"));
    return;
  }
  res.writeHead(200, { "content-length": sizeMiB * MiB });
  let left = sizeMiB;
  const more = () => {
    while (left > 0) {
      left--;
      if (!res.write(chunk)) return void res.once("drain", more);
    }
    res.end();
  };
  more();
});
await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
const httpPort = (http.address() as AddressInfo).port;

async function measure(who: string, s: GuestSession, gateway: string): Promise<string> {
  try {
    await s.waitFor(/lkvm: Linux \S+ is up/, 600_000);
    await s.waitFor(PROMPT, 60_000);
    const timed = (cmd: string, marker: string) => timeAtPrompt(s, PROMPT, cmd, marker);
    const down = await timed(`wget -q -O /dev/null http://${gateway}:${httpPort}/`, "down");
    s.send(`dd if=/dev/zero of=/tmp/up bs=1M count=${sizeMiB} 2>/dev/null\n`);
    await s.waitFor(PROMPT, 120_000);
    const up = await timed(`wget -q -O /dev/null --post-file /tmp/up http://${gateway}:${httpPort}/`, "up");
    const rate = (sec: number) => `${sec.toFixed(2)} s (${(sizeMiB / sec).toFixed(1)} MiB/s)`;
    return `| ${who} | ${rate(down)} | ${rate(up)} |`;
  } finally {
    s.kill();
  }
}

const rows = [`| ${sizeMiB} MiB | host → guest (wget) | guest → host (wget --post-file) |`, "|---|---|---|"];
const lkvmArgs = ["-k", IMAGE, "-i", INITRD, "-m", "512", "-c", "1", "-p", "quiet"];
rows.push(await measure("lkvm (JIT)", GuestSession.start(lkvmArgs), "192.168.33.1"));
const qemuArgs = [...QEMU_MACHINE, "-smp", "1", "-m", "512", "-kernel", IMAGE, "-initrd", INITRD, "-append", "console=ttyAMA0 quiet", "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"];
rows.push(await measure("QEMU TCG, user networking", startQemuSession(qemuArgs), "10.0.2.2"));
console.log(`lkvm: bin/lkvm run ${lkvmArgs.join(" ")}\nQEMU: ${QEMU} ${qemuArgs.join(" ")}\n`);
console.log(rows.join("\n"));
http.close();
process.exit(0);
