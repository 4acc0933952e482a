// A FIFO of bytes kept as the chunks they arrived in: appended at the end, consumed from the
// front, and read at any offset without joining everything (a TCP send buffer).

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private head = 0;
  private total = 0;

  get lengthBytes(): number {
    return this.total;
  }

  append(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.total += data.length;
  }

  /** Drops the first `n` bytes (at most all of them). */
  consume(n: number): void {
    let left = Math.min(n, this.total);
    this.total -= left;
    while (left > 0) {
      const first = this.chunks[0]!;
      const avail = first.length - this.head;
      if (left < avail) {
        this.head += left;
        return;
      }
      left -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** A copy of `n` bytes from `offset` (clipped to what the queue holds). */
  peek(offset: number, n: number): Uint8Array {
    const want = Math.max(0, Math.min(n, this.total - offset));
    const out = new Uint8Array(want);
    let skip = offset + this.head;
    let done = 0;
    for (const c of this.chunks) {
      if (done === want) break;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, want - done);
      out.set(c.subarray(skip, skip + take), done);
      done += take;
      skip = 0;
    }
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
  }
}
