// `make bench`'s guest workloads: the default Debian guest boots to its shell under lkvm and
// under QEMU TCG, a 64 MiB file is written to /tmp, then commands are typed at the prompt and
// timed from typing to their marker (boot and set-up not counted):
// - md5: md5sum of the file, then a 30 000-iteration shell loop (memory-bound kernel code,
//   then the shell's interpreter) on one vCPU;
// - the same under two vCPUs (lkvm -c 2): a single-threaded workload should not pay for the
//   idle vCPU;
// - two md5sum jobs in parallel on two vCPUs, against QEMU -smp 2 (MTTCG: a host thread each).

import { existsSync } from "node:fs";
import { GuestSession } from "../src/testing/guest-session.ts";
import { QEMU, QEMU_MACHINE, startQemuSession } from "./qemu-session.ts";
import { timeAtPrompt } from "./timed-command.ts";

const IMAGE = "cache/guest/Image";
const INITRD = "cache/guest/initramfs.cpio.gz";
const PROMPT = /[~/] ?# /;

const MD5_AND_LOOP = "md5sum /tmp/f >/dev/null; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done";
const TWO_MD5 = "md5sum /tmp/f >/dev/null & md5sum /tmp/f >/dev/null & wait";

interface Measured {
  md5?: number;
  twoMd5?: number;
}

/** Boots one guest and times the workloads it is given; throws if the guest never gets there. */
async function measureSession(s: GuestSession, withParallel: boolean): Promise<Measured> {
  try {
    await s.waitFor(PROMPT, 600_000);
    const typeAndWait = (cmd: string, marker: string) => timeAtPrompt(s, PROMPT, cmd, marker);
    await typeAndWait("dd if=/dev/zero of=/tmp/f bs=1M count=64 2>/dev/null", "ready");
    const out: Measured = { md5: await typeAndWait(MD5_AND_LOOP, "md5") };
    if (withParallel) out.twoMd5 = await typeAndWait(TWO_MD5, "two");
    return out;
  } finally {
    s.kill();
  }
}

function min(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

export async function workloadBench(runs: number): Promise<string[]> {
  if (!existsSync(IMAGE) || !existsSync(INITRD)) return ["### Guest workloads", "", "skipped: run `make guest` first"];
  const guest = ["-k", IMAGE, "-i", INITRD, "-m", "512", "-p", "quiet"];
  const qemu = (smp: number) => [...QEMU_MACHINE, "-smp", String(smp), "-m", "512", "-kernel", IMAGE, "-initrd", INITRD, "-append", "console=ttyAMA0 quiet"];
  const best = { lkvm1: {} as Measured, lkvm2: {} as Measured, qemu1: {} as Measured, qemu2: {} as Measured };
  const fold = (into: Measured, m: Measured) => {
    into.md5 = min(into.md5, m.md5);
    into.twoMd5 = min(into.twoMd5, m.twoMd5);
  };
  for (let i = 0; i < runs; i++) {
    fold(best.lkvm1, await measureSession(GuestSession.start([...guest, "-c", "1"]), false));
    fold(best.lkvm2, await measureSession(GuestSession.start([...guest, "-c", "2"]), true));
    fold(best.qemu1, await measureSession(startQemuSession(qemu(1)), false));
    fold(best.qemu2, await measureSession(startQemuSession(qemu(2)), true));
  }
  const s = (x: number | undefined) => (x === undefined ? "—" : `${x.toFixed(2)} s`);
  const r = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? "—" : `${(a / b).toFixed(2)}×`);
  return [
    `### Guest workloads (wall time from typing the command to its end, after boot; best of ${runs})`,
    ``,
    `lkvm: \`bin/lkvm run ${guest.join(" ")} -c 1|2\`  `,
    `QEMU: \`${QEMU} ${qemu(1).join(" ").replace("-smp 1", "-smp 1|2")}\`  `,
    `md5 + loop: \`${MD5_AND_LOOP}\` (a 64 MiB file in /tmp); two md5: \`${TWO_MD5}\``,
    ``,
    `| workload | lkvm | QEMU TCG | lkvm / QEMU |`,
    `|---|---|---|---|`,
    `| md5 + loop, 1 vCPU | ${s(best.lkvm1.md5)} | ${s(best.qemu1.md5)} | ${r(best.lkvm1.md5, best.qemu1.md5)} |`,
    `| md5 + loop, 2 vCPUs (one busy) | ${s(best.lkvm2.md5)} | ${s(best.qemu2.md5)} | ${r(best.lkvm2.md5, best.qemu2.md5)} |`,
    `| two md5 in parallel, 2 vCPUs | ${s(best.lkvm2.twoMd5)} | ${s(best.qemu2.twoMd5)} | ${r(best.lkvm2.twoMd5, best.qemu2.twoMd5)} |`,
    ``,
    `lkvm's single-threaded workload under -c 2 against -c 1: ${r(best.lkvm2.md5, best.lkvm1.md5)}.`,
  ];
}
