// virtio-net with lkvm's user-mode network, in Debian's kernel: with no -n option the guest
// has a NIC, the initramfs's udhcpc gets 192.168.33.15 from lkvm's DHCP server, and the
// gateway address 192.168.33.1 reaches host services on 127.0.0.1 (TCP: wget; UDP: a TFTP
// exchange with a server the test runs; DNS: the forwarder answers from the host's resolver).
// 20 parallel 1 MiB downloads arrive intact; hostfwd brings a host client to a guest `nc -l`;
// -n mode=none leaves the guest without a NIC.

import { createHash, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuestSession } from "../../src/testing/guest-session.ts";
import { BOOT_MS, IMAGE, INITRD, PROMPT, run } from "../support/debian-guest.ts";

const DOWNLOADS = 20;
const MiB = 1024 * 1024;

async function boot(args: string[]): Promise<GuestSession> {
  if (!existsSync(IMAGE) || !existsSync(INITRD)) throw new Error("no default guest: run `make guest`");
  const s = GuestSession.start(["-k", IMAGE, "-i", INITRD, "-m", "256", "-c", "1", "-p", "quiet", ...args]);
  await s.waitFor(/lkvm: Linux \S+ is up/, BOOT_MS);
  await s.waitFor(PROMPT, 60_000);
  return s;
}

async function powerOff(s: GuestSession): Promise<void> {
  s.send("poweroff -f\n");
  const exit = await s.exited(60_000);
  expect(exit.code).toBe(0);
}

/** A port nothing listens on now (for hostfwd). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

describe("virtio-net with user-mode networking, in Debian's kernel", () => {
  const files = Array.from({ length: DOWNLOADS }, () => randomBytes(MiB));
  let http: Server;
  let httpPort = 0;
  const tftp = createSocket("udp4");
  let tftpPort = 0;

  beforeAll(async () => {
    http = createHttpServer((req, res) => {
      const m = /^\/big\/(\d+)$/.exec(req.url ?? "");
      if (m && files[Number(m[1])]) {
        res.writeHead(200, { "content-length": MiB });
        res.end(files[Number(m[1])]);
      } else res.end("hello from the host\n");
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    httpPort = (http.address() as AddressInfo).port;
    // A one-block TFTP server (RFC 1350): a read request gets one DATA block naming the file
    // asked for, which ends the transfer (shorter than 512 bytes).
    tftp.on("message", (msg, rinfo) => {
      if (msg.readUInt16BE(0) !== 1) return;
      const name = msg.subarray(2, msg.indexOf(0, 2)).toString();
      const data = Buffer.concat([Buffer.from([0, 3, 0, 1]), Buffer.from(`udp echo: ${name}\n`)]);
      tftp.send(data, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => tftp.bind(0, "127.0.0.1", r));
    tftpPort = tftp.address().port;
  });

  afterAll(() => {
    http?.close();
    tftp.close();
  });

  it("with no -n: DHCP gives 192.168.33.15; TCP, UDP and DNS reach the host through 192.168.33.1; 20 parallel 1 MiB downloads arrive intact", async () => {
    const s = await boot([]);
    try {
      await run(s, "ifconfig eth0", /inet addr:192\.168\.33\.15 .*Mask:255\.255\.255\.0/);
      await run(s, "route -n", /0\.0\.0\.0 +192\.168\.33\.1 /);
      await run(s, "ping -c 1 192.168.33.1", /1 packets received/);
      await run(s, `wget -q -O- http://192.168.33.1:${httpPort}/`, /\nhello from the host/);
      await run(s, `tftp -g -r hello-udp -l /tmp/t 192.168.33.1 ${tftpPort} && cat /tmp/t`, /\nudp echo: hello-udp/);
      await run(s, "cat /etc/resolv.conf; nslookup localhost", /Address: 127\.0\.0\.1/);
      // A refused connection is an RST, not a hang.
      const closed = await freePort();
      await run(s, `wget -q -O- http://192.168.33.1:${closed}/; echo wget-status-$?`, /wget-status-1/);

      const cmd = `for i in $(seq 0 ${DOWNLOADS - 1}); do wget -q -O /tmp/f$i http://192.168.33.1:${httpPort}/big/$i & done; wait; md5sum /tmp/f*; echo downloads-$((6 * 7))`;
      s.send(`${cmd}\n`);
      const t0 = performance.now();
      await s.waitFor(/downloads-42\r?\n/, 600_000);
      console.log(`${DOWNLOADS} parallel 1 MiB downloads: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (let i = 0; i < DOWNLOADS; i++) expect(s.output).toContain(`${md5(files[i]!)}  /tmp/f${i}`);
      await s.waitFor(PROMPT, 60_000);
      await powerOff(s);
    } finally {
      s.kill();
    }
  }, 900_000);

  it("hostfwd=tcp:127.0.0.1:PORT-:8080 brings a host client to the guest's nc -l, both ways", async () => {
    const port = await freePort();
    const s = await boot(["-n", `mode=user,hostfwd=tcp:127.0.0.1:${port}-:8080`]);
    try {
      await run(s, "ifconfig eth0", /inet addr:192\.168\.33\.15 /);
      s.send("echo hello-from-guest | nc -l -p 8080 > /tmp/got; echo nc-done-$(cat /tmp/got)\n");
      await new Promise((r) => setTimeout(r, 2000));
      const got = await new Promise<string>((resolve, reject) => {
        const c = connect(port, "127.0.0.1");
        let text = "";
        c.on("data", (d) => {
          text += d.toString();
          if (text.includes("hello-from-guest")) c.end("hello-from-host\n");
        });
        c.on("end", () => resolve(text));
        c.on("error", reject);
      });
      expect(got).toBe("hello-from-guest\n");
      await s.waitFor(/nc-done-hello-from-host/, 60_000);
      await s.waitFor(PROMPT, 60_000);
      await powerOff(s);
    } finally {
      s.kill();
    }
  }, 600_000);

  it("-n mode=none: no NIC", async () => {
    const s = await boot(["-n", "mode=none"]);
    try {
      await run(s, "ls /sys/class/net; echo listed", /listed/);
      expect(s.output).not.toMatch(/eth0/);
      await powerOff(s);
    } finally {
      s.kill();
    }
  }, 600_000);
});
