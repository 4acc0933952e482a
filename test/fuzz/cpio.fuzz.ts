// The newc cpio writer and reader (src/lib/initramfs/cpio.ts): random entries written and read
// back (plain and gzip'd), and written archives damaged before reading. The reader takes
// initramfs files from the user; the writer takes paths and modes from the host's files.
//
// Must hold: the writer either refuses with ConfigError or writes an archive the reader gives
// back entry for entry (path, type, mode, owner, mtime, data, link target, device); a damaged
// archive either reads or throws CpioFormatError, nothing else.

import fc from "fast-check";
import { ConfigError } from "../../src/errors.ts";
import { CpioFormatError, cpioPath, readCpio, writeCpio, writeCpioGz, type CpioEntry, type CpioType } from "../../src/lib/initramfs/cpio.ts";
import { attempt, check, type FuzzTarget } from "./harness.ts";

const TYPES: CpioType[] = ["file", "dir", "symlink", "char", "block", "fifo", "socket"];

const componentArb = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(..."abcdefghij0123456789._- "), minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(".", "..", "", "TRAILER!!!", "é", "\u{1f600}") },
  { weight: 1, arbitrary: fc.integer({ min: 2000, max: 5000 }).map((n) => "x".repeat(n)) },
);

const pathArb = fc
  .tuple(fc.constantFrom("", "/", "//"), fc.array(componentArb, { minLength: 1, maxLength: 3 }), fc.constantFrom("", "/"))
  .map(([lead, parts, trail]) => lead + parts.join("/") + trail);

const u32ish = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 32, 1.5, Number.NaN) },
);

const entryArb: fc.Arbitrary<CpioEntry> = fc
  .record(
    {
      path: pathArb,
      type: fc.constantFrom(...TYPES),
      mode: fc.oneof(fc.integer({ min: 0, max: 0o7777 }), fc.constantFrom(0o10000, -1)),
      data: fc.uint8Array({ maxLength: 300 }),
      target: fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ unit: "binary", maxLength: 10 })),
      rdevMajor: u32ish,
      rdevMinor: u32ish,
      uid: u32ish,
      gid: u32ish,
      mtime: u32ish,
    },
    { requiredKeys: ["path", "type"] },
  )
  .map((e) => {
    // Mostly what the writer is documented to take: data only on files, a target only on links.
    const { data, target, ...rest } = e;
    return { ...rest, ...(e.type === "file" ? { data } : {}), ...(e.type === "symlink" ? { target } : {}) };
  });

type Damage = { at: number; value: number } | { keep: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 0xff }), fc.constantFrom(...[..."0789afgAFG!\0 "].map((c) => c.charCodeAt(0)))) }) },
  { weight: 1, arbitrary: fc.record({ keep: fc.nat() }) },
);

function damage(archive: Uint8Array, d: Damage): Uint8Array {
  if ("keep" in d) return archive.slice(0, d.keep % (archive.length + 1));
  const out = archive.slice();
  if (out.length > 0) out[d.at % out.length] = d.value;
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

export const cpioTarget: FuzzTarget = {
  name: "cpio",
  description: "newc cpio write/read round trip, plain and gzip'd, and damaged archives",
  quickRuns: 300,
  build() {
    const inputArb = fc.record({
      entries: fc.array(entryArb, { maxLength: 6 }),
      gzip: fc.boolean(),
      mtime: fc.integer({ min: 0, max: 0xffff_ffff }),
      damage: fc.array(damageArb, { maxLength: 3 }),
    });
    const property = fc.property(inputArb, ({ entries, gzip, mtime, damage: damages }) => {
      const written = attempt([ConfigError], () => (gzip ? writeCpioGz : writeCpio)(entries, { mtime }));
      if (written.error) return;
      const archive = written.value;

      if (damages.length > 0) {
        attempt([CpioFormatError], () => readCpio(damages.reduce(damage, archive)));
        return;
      }
      const records = attempt([CpioFormatError], () => readCpio(archive));
      check(records.error === undefined, () => `an archive the writer made was refused: ${records.error?.message}`);
      check(records.value!.length === entries.length, () => `${entries.length} entries written, ${records.value!.length} read`);
      records.value!.forEach((r, i) => {
        const e = entries[i]!;
        const isDev = e.type === "char" || e.type === "block";
        const what = `entry ${i} (${JSON.stringify(r.path).slice(0, 60)})`;
        check(r.path === cpioPath(e.path), () => `${what}: path ${JSON.stringify(e.path).slice(0, 60)} came back different`);
        check(r.type === e.type, () => `${what}: type ${e.type} came back ${r.type}`);
        check(r.mode === (e.mode ?? r.mode), () => `${what}: mode ${e.mode} came back ${r.mode}`);
        check(r.uid === (e.uid ?? 0) && r.gid === (e.gid ?? 0), () => `${what}: owner changed`);
        check(r.mtime === (e.mtime ?? mtime), () => `${what}: mtime changed`);
        check(r.rdevMajor === (isDev ? (e.rdevMajor ?? 0) : 0) && r.rdevMinor === (isDev ? (e.rdevMinor ?? 0) : 0), () => `${what}: device changed`);
        if (e.type === "file") check(sameBytes(r.data, e.data ?? new Uint8Array(0)), () => `${what}: data changed`);
        else if (e.type === "symlink") check(r.target === e.target, () => `${what}: link target ${JSON.stringify(e.target)} came back ${JSON.stringify(r.target)}`);
        else check(r.data.length === 0, () => `${what}: a ${e.type} came back with data`);
      });
    });
    return { property };
  },
};
