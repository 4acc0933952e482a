// Host files for device tests: sparse images in a temp folder, and the process's open file
// descriptors (to prove a failure closed what it opened). Not a test file itself.

import { mkdtempSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temp folder and a maker of sparse image files in it. */
export function imageFolder(prefix: string): { dir: string; image(name: string, sizeBytes: number): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    image(name, sizeBytes) {
      const path = join(dir, name);
      writeFileSync(path, "");
      truncateSync(path, sizeBytes);
      return path;
    },
  };
}

/** How many file descriptors this process has open (Linux). */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}
