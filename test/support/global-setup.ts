// Vitest's global setup: every temporary file and directory the suites make (mkdtempSync under
// tmpdir(), and whatever the lkvm processes they start make there) goes into one directory per
// run, removed when the run ends. The suites never clean up after themselves one by one; before
// this, each `make test` left a few hundred lkvm-* directories in /tmp.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  // Each project runs this setup: the first makes the directory, the others use it (making
  // one inside another would lengthen socket paths past what a Unix socket address holds).
  if (process.env.LKVM_TESTS_TMPDIR !== undefined) return () => {};
  const dir = mkdtempSync(join(tmpdir(), "lkvm-tests-"));
  process.env.LKVM_TESTS_TMPDIR = dir;
  // Workers and the processes they spawn inherit the environment, and tmpdir() reads TMPDIR.
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
