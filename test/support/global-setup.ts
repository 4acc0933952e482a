// Vitest's global setup: every temporary file and directory the suites make (mkdtempSync under
// tmpdir(), and whatever the lkvm processes they start make there) goes into one directory per
// run, removed when the run ends. The suites never clean up after themselves one by one; before
// this, each `make test` left a few hundred lkvm-* directories in /tmp.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "lkvm-tests-"));
  // Workers and the processes they spawn inherit the environment, and tmpdir() reads TMPDIR.
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
