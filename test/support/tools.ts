// Whether an external tool the tests use (qemu-aarch64, dtc, the cross compiler) is installed:
// `make deps` installs them all, and a test that needs one is skipped, with the tool named in
// its title, rather than passing without checking anything.

import { spawnSync } from "node:child_process";

export function hasTool(command: string, versionArg = "--version"): boolean {
  const r = spawnSync(command, [versionArg], { stdio: "ignore" });
  return r.error === undefined && r.status === 0;
}
