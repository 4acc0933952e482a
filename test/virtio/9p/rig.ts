// A 9p server on a fresh temporary directory, with a client already attached as fid 0.
// Beside the share sits "outside/secret": what confinement must keep from the guest.

import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { P9Server } from "../../../virtio/9p/server.ts";
import { Share } from "../../../virtio/9p/share.ts";
import { P9TestClient } from "../../support/p9-client.ts";

// Linux errno values, written out here rather than imported from the code under test.
export const ENOENT = 2, EBADF = 9, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22;
export const EROFS = 30, ENAMETOOLONG = 36, ENOTEMPTY = 39, ELOOP = 40, EPROTO = 71, EOPNOTSUPP = 95, EPERM = 1;

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000;
export const ROOT = 0;

export function p9Rig(opts: { readOnly?: boolean; share?: (dir: string, ro: boolean) => Share } = {}) {
  const base = mkdtempSync(join(tmpdir(), "lkvm-9p-unit-"));
  const dir = join(base, "share");
  const outside = join(base, "outside");
  mkdirSync(dir);
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "host secret\n");
  const log: string[] = [];
  const share = (opts.share ?? ((d, ro) => new Share(d, ro)))(dir, opts.readOnly ?? false);
  const server = new P9Server({ share, log: (l) => log.push(l) });
  const client = new P9TestClient((msg, room = 1 << 20) => {
    const r = server.handle(msg, room);
    return r && Buffer.from(r);
  });
  client.version(65536);
  client.attach(ROOT);
  return { base, dir, outside, server, client, log };
}
