// A kernel, initrd or firmware file on its way into guest RAM. The loader needs the size and the
// first bytes (the arm64 Image header) to place it, then the bytes go straight from the file into
// guest RAM: no intermediate Buffer of the whole image, which for Debian's 33 MB kernel cost an
// allocation, its page faults and a second copy before the first guest instruction.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { FileError } from "../errors.ts";

/** Bytes of the file read up front: the arm64 Image header is 64. */
const HEAD_BYTES = 64;

export class ImageFile {
  private constructor(
    readonly path: string,
    /** What it is, in messages: "kernel", "initrd", "firmware". */
    readonly what: string,
    private fd: number | undefined,
    readonly sizeBytes: number,
    /** Its first bytes (all of it if shorter than the Image header). */
    readonly head: Uint8Array,
  ) {}

  /** Opens a file and reads its head; FileError (with the errno code) if it cannot be read. */
  static open(path: string, what: string): ImageFile {
    let fd: number | undefined;
    try {
      fd = openSync(path, "r");
      const sizeBytes = fstatSync(fd).size;
      const head = new Uint8Array(Math.min(HEAD_BYTES, sizeBytes));
      const file = new ImageFile(path, what, fd, sizeBytes, head);
      file.fill(head);
      return file;
    } catch (e) {
      if (fd !== undefined) closeSync(fd);
      if (e instanceof FileError) throw e;
      throw new FileError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code}`);
    }
  }

  /** Reads the whole file into `target` (exactly sizeBytes long) and closes it. */
  readInto(target: Uint8Array): void {
    if (target.length !== this.sizeBytes) throw new RangeError(`${this.what}: ${target.length}-byte target for a ${this.sizeBytes}-byte file`);
    try {
      this.fill(target);
    } catch (e) {
      if (e instanceof FileError) throw e;
      throw new FileError(`cannot read ${this.what} '${this.path}': ${(e as NodeJS.ErrnoException).code}`);
    } finally {
      this.close();
    }
  }

  /** Fills `target` from the start of the file; a file that ends early (it shrank since it was opened) is a FileError. */
  private fill(target: Uint8Array): void {
    let done = 0;
    while (done < target.length) {
      const n = readSync(this.fd!, target, done, target.length - done, done);
      if (n === 0) throw new FileError(`${this.what} '${this.path}' ended after ${done} bytes, short of its size (it changed while being read)`);
      done += n;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
