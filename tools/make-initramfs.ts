// make-initramfs --guest DIR --out FILE [--init FILE]
//
// Packs DIR/busybox and the virtio modules from DIR/modules (as left by fetch-guest.sh)
// into a gzip'd newc initramfs. Rebuilding takes about a second, so it always rebuilds.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../src/errors.ts";
import { buildInitramfs } from "../src/lib/initramfs/initramfs.ts";

function main(): void {
  let values: { guest?: string; out?: string; init?: string };
  try {
    ({ values } = parseArgs({
      options: { guest: { type: "string" }, out: { type: "string" }, init: { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (!values.guest || !values.out) throw new ConfigError("usage: make-initramfs --guest DIR --out FILE [--init FILE]");
  const guest = values.guest;
  const busyboxPath = join(guest, "busybox");
  if (!existsSync(busyboxPath)) throw new ConfigError(`${busyboxPath} is missing; run tools/fetch-guest.sh ${guest}`);
  const modulesDir = join(guest, "modules");
  const versionFile = join(guest, "kernel-version");
  let init: string | undefined;
  if (values.init) {
    try {
      init = readFileSync(values.init, "utf8");
    } catch (err) {
      throw new ConfigError(`--init ${values.init}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  const ramfs = buildInitramfs({
    busyboxPath,
    modulesDir: existsSync(modulesDir) ? modulesDir : undefined,
    kernelVersion: existsSync(versionFile) ? readFileSync(versionFile, "utf8").trim() : undefined,
    init,
  });
  const gz = ramfs.cpioGz();
  // Write then rename, so an interrupted build never leaves a half-written image behind.
  const tmp = `${values.out}.tmp-${process.pid}`;
  writeFileSync(tmp, gz);
  renameSync(tmp, values.out);

  const mib = (gz.length / 1048576).toFixed(1);
  const extra = ramfs.missing.length ? `; not found: ${ramfs.missing.join(" ")}` : "";
  console.log(
    `initramfs: ${values.out} (${mib} MiB, ${ramfs.entries.length} entries, ${ramfs.applets} applet links, ` +
      `${ramfs.modules.length} modules for ${ramfs.kernelVersion ?? "no kernel"}${extra})`,
  );
}

try {
  main();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`make-initramfs: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
