// Guest↔host TCP throughput over the user-mode network, lkvm beside QEMU's user networking
// (slirp) on the same kernel and initramfs: `node build/tools/net-bench.mjs [MiB]`.
// The guest downloads MiB from a host HTTP server (wget -O /dev/null) and uploads MiB to a host
// sink (dd | nc); each figure is the wall time from typing the command to its marker.

import { writeFileSync, mkdtempSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestSession } from "../src/testing/guest-session.ts";

const MiB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 64);
const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const PROMPT = /[~/] ?# /;

const chunk = Buffer.alloc(MiB);
const http = createHttpServer((_req, res) => {
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
const sink = createServer((s) => {
  let n = 0;
  s.on("data", (d) => {
    n += d.length;
    if (n >= sizeMiB * MiB) s.end();
  });
  s.on("error", () => {});
});
await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const httpPort = (http.address() as AddressInfo).port;
const sinkPort = (sink.address() as AddressInfo).port;

async function measure(who: string, s: GuestSession, gateway: string): Promise<string> {
  try {
    await s.waitFor(/lkvm: Linux \S+ is up/, 600_000);
    await s.waitFor(PROMPT, 60_000);
    const timed = async (cmd: string, marker: string) => {
      const t0 = performance.now();
      s.send(`${cmd}; echo ${marker}-$((6 * 7))\n`);
      await s.waitFor(new RegExp(`${marker}-42`), 600_000);
      const seconds = (performance.now() - t0) / 1000;
      await s.waitFor(PROMPT, 60_000);
      return seconds;
    };
    const down = await timed(`wget -q -O /dev/null http://${gateway}:${httpPort}/`, "down");
    const up = await timed(`dd if=/dev/zero bs=64k count=${sizeMiB * 16} 2>/dev/null | nc ${gateway} ${sinkPort}`, "up");
    const rate = (sec: number) => `${sec.toFixed(2)} s (${(sizeMiB / sec).toFixed(1)} MiB/s)`;
    return `| ${who} | ${rate(down)} | ${rate(up)} |`;
  } finally {
    s.kill();
  }
}

const rows = [`| ${sizeMiB} MiB | host → guest (wget) | guest → host (dd \\| nc) |`, "|---|---|---|"];
const lkvmArgs = ["-k", IMAGE, "-i", INITRD, "-m", "512", "-c", "1", "-p", "quiet"];
rows.push(await measure("lkvm (JIT)", GuestSession.start(lkvmArgs), "192.168.33.1"));
// QEMU through the same session API: a wrapper drops the "run" GuestSession puts first.
const wrapper = join(mkdtempSync(join(tmpdir(), "lkvm-netbench-")), "qemu");
writeFileSync(wrapper, '#!/bin/sh\nshift\nexec qemu-system-aarch64 "$@"\n', { mode: 0o755 });
const qemuArgs = ["-M", "virt", "-cpu", "cortex-a57", "-smp", "1", "-m", "512", "-nographic", "-no-reboot", "-kernel", IMAGE, "-initrd", INITRD, "-append", "console=ttyAMA0 quiet", "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"];
rows.push(await measure("QEMU TCG, user networking", GuestSession.start(qemuArgs, { lkvm: wrapper }), "10.0.2.2"));
console.log(`lkvm: bin/lkvm run ${lkvmArgs.join(" ")}\nQEMU: qemu-system-aarch64 ${qemuArgs.join(" ")}\n`);
console.log(rows.join("\n"));
http.close();
sink.close();
process.exit(0);
