// virtio-balloon (virtio 1.2 §5.5) as kvmtool builds it for `--balloon`: an inflate, a deflate
// and a statistics queue, feature VIRTIO_BALLOON_F_STATS_VQ only, and a target size the host
// changes with `lkvm balloon` (changeTarget: 256 pages per MB, then a configuration interrupt).
//
// Config space (16 bytes): num_pages (the host's target, in 4 KiB pages), actual (the driver's
// count, the one field it writes), free_page_hint_cmd_id and poison_val (unused: features not
// offered).
//
// Inflated pages: kvmtool gives them back with madvise(MADV_DONTNEED). Guest RAM here is a
// WebAssembly.Memory, which Node cannot decommit (no madvise, no memory.discard in this V8),
// so the pages stay resident; the device zeroes them (the guest then sees what MADV_DONTNEED
// would leave). README, "The balloon and lkvm's memory", says what this means for RSS.
//
// The host counts the pages in the balloon itself (a set of PFNs: a page inflated twice
// counts once, a deflated page that was never inflated not at all), apart from `actual`,
// which is the driver's to write. A PFN outside guest RAM is the guest's mistake: logged once
// and skipped. The host's work per chain is capped at BALLOON_MAX_PFNS_PER_CHAIN.
//
// Statistics (§5.5.6.3): the driver posts one buffer of tagged u64s on the stats queue and
// keeps it there; the device holds it until the host wants fresh numbers (requestStats), then
// returns it, and the driver refills it and posts it again, which answers the request.

import {
  VIRTIO_ID_BALLOON,
  featureBit,
  hasFeature,
  type ActivateContext,
  type VirtioDevice,
  type VirtioLifecycle,
} from "./device.ts";
import type { DescriptorChain } from "./queue.ts";
import type { GuestMemory } from "../src/kvm/guest-memory.ts";

export const VIRTIO_BALLOON_F_STATS_VQ = 1;
export const BALLOON_QUEUE_SIZE = 128;
export const BALLOON_INFLATE_QUEUE = 0;
export const BALLOON_DEFLATE_QUEUE = 1;
export const BALLOON_STATS_QUEUE = 2;
/** VIRTIO_BALLOON_PFN_SHIFT: balloon PFNs are 4 KiB pages whatever the guest's page size. */
export const BALLOON_PAGE_BYTES = 4096;
/** kvmtool's handle_mem: a megabyte is 256 pages. */
export const BALLOON_PAGES_PER_MB = 256;
export const BALLOON_CONFIG_BYTES = 16;
const CONFIG_NUM_PAGES = 0;
const CONFIG_ACTUAL = 4;
/** Linux sends at most 256 PFNs a chain; this bounds a hostile guest's chain. */
export const BALLOON_MAX_PFNS_PER_CHAIN = 16 * 1024;
/** VIRTIO_BALLOON_S_NR: the statistics kvmtool keeps and sends, 10 bytes each (u16 tag, u64 value). */
export const BALLOON_STATS_COUNT = 10;
export const BALLOON_STAT_BYTES = 10;

/** One statistic as the driver sent it (tags: VIRTIO_BALLOON_S_*). */
export interface BalloonStat {
  tag: number;
  value: bigint;
}

export interface VirtioBalloonOptions {
  /** Guest RAM size: the target never asks for more than all of it. */
  ramSizeBytes: number;
  log?: (line: string) => void;
}

export class VirtioBalloon implements VirtioDevice {
  readonly name = "virtio-balloon";
  readonly deviceId = VIRTIO_ID_BALLOON;
  readonly features = featureBit(VIRTIO_BALLOON_F_STATS_VQ);
  readonly queueSizesMax = [BALLOON_QUEUE_SIZE, BALLOON_QUEUE_SIZE, BALLOON_QUEUE_SIZE];
  readonly config = new Uint8Array(BALLOON_CONFIG_BYTES);
  readonly kernelConfig = "CONFIG_VIRTIO_BALLOON";
  private readonly configView = new DataView(this.config.buffer);
  private lifecycle: VirtioLifecycle = { state: "inactive" };
  private readonly ramPages: number;
  private readonly log: (line: string) => void;
  private readonly logged = new Set<string>();
  /** PFNs in the balloon, as the host counts them. */
  private readonly inflated = new Set<number>();
  /** The driver's stats buffer, held until the host asks for fresh numbers. */
  private heldStats?: number;
  /** Who waits for the driver to refill the stats buffer. */
  private statsWaiters: ((stats: BalloonStat[] | undefined) => void)[] = [];
  private latestStats: BalloonStat[] = [];

  constructor(opts: VirtioBalloonOptions) {
    this.ramPages = Math.floor(opts.ramSizeBytes / BALLOON_PAGE_BYTES);
    this.log = opts.log ?? (() => {});
  }

  /** The host's target, in pages (config num_pages). */
  get targetPages(): number {
    return this.configView.getUint32(CONFIG_NUM_PAGES, true);
  }

  /** The driver's own count of pages it has given up (config actual). */
  get actualPages(): number {
    return this.configView.getUint32(CONFIG_ACTUAL, true);
  }

  /** The pages the host has taken, by its own count. */
  get inflatedPages(): number {
    return this.inflated.size;
  }

  /**
   * `lkvm balloon -i MB` (positive) or `-d MB` (negative), as kvmtool's handle_mem: the target
   * moves by 256 pages per MB and the driver is told. A deflate below zero is ignored, as in
   * kvmtool; an inflate past all of guest RAM stops there (kvmtool lets the u32 wrap).
   * Returns a line for the log.
   */
  changeTarget(mb: number): string {
    const before = this.targetPages;
    let target = before + mb * BALLOON_PAGES_PER_MB;
    if (target < 0) return `${this.name}: cannot deflate by ${-mb} MB: the target is ${before / BALLOON_PAGES_PER_MB} MB; ignored`;
    let note = "";
    if (target > this.ramPages) {
      target = this.ramPages;
      note = " (all of guest RAM)";
    }
    this.configView.setUint32(CONFIG_NUM_PAGES, target, true);
    const l = this.lifecycle;
    if (l.state === "active") l.interrupt.configChanged();
    return `${this.name}: target ${target / BALLOON_PAGES_PER_MB} MB${note}, was ${before / BALLOON_PAGES_PER_MB} MB`;
  }

  /**
   * Fresh statistics from the guest (`lkvm stat -m`): resolves when the driver has refilled the
   * stats buffer, or at once with undefined when it cannot (no driver, no stats queue).
   */
  requestStats(): Promise<BalloonStat[] | undefined> {
    const l = this.lifecycle;
    if (l.state !== "active" || !hasFeature(l.features, VIRTIO_BALLOON_F_STATS_VQ) || !l.queues[BALLOON_STATS_QUEUE]!.ready) {
      return Promise.resolve(undefined);
    }
    const answer = new Promise<BalloonStat[] | undefined>((resolve) => this.statsWaiters.push(resolve));
    if (this.heldStats !== undefined) {
      const q = l.queues[BALLOON_STATS_QUEUE]!;
      q.pushUsed(l.mem, this.heldStats, 0);
      this.heldStats = undefined;
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(BALLOON_STATS_QUEUE);
    }
    // Otherwise a request is in flight (or the driver has not posted its buffer yet): the next
    // buffer answers every waiter.
    return answer;
  }

  /** The statistics the driver last sent. */
  get lastStats(): readonly BalloonStat[] {
    return this.latestStats;
  }

  activate(ctx: ActivateContext): void {
    this.lifecycle = { state: "active", ...ctx };
    // Linux posts its first stats buffer and kicks before DRIVER_OK (init_vqs), a kick the
    // transport drops: take the buffer now.
    if (ctx.queues[BALLOON_STATS_QUEUE]!.ready) this.notify(BALLOON_STATS_QUEUE);
  }

  /** The driver let go: every page is the guest's again and nobody will answer for stats. */
  reset(): void {
    this.lifecycle = { state: "inactive" };
    this.inflated.clear();
    this.configView.setUint32(CONFIG_ACTUAL, 0, true);
    this.heldStats = undefined;
    this.answerStats(undefined);
  }

  close(): void {
    this.answerStats(undefined);
  }

  /** Only `actual` is the driver's to write. */
  writeConfig(offset: number, data: Uint8Array): void {
    if (offset < CONFIG_ACTUAL || offset + data.length > CONFIG_ACTUAL + 4) {
      this.complain("config-write", `driver wrote ${data.length} bytes at config +${offset}, outside 'actual'; ignored`);
      return;
    }
    this.config.set(data, offset);
  }

  notify(queueIndex: number): void {
    const l = this.lifecycle;
    if (l.state !== "active") return;
    const q = l.queues[queueIndex]!;
    try {
      for (let chain = q.pop(l.mem); chain !== null; chain = q.pop(l.mem)) {
        if (queueIndex === BALLOON_STATS_QUEUE) {
          this.receiveStats(l.mem, chain);
          continue; // held, not returned
        }
        this.movePages(l.mem, chain, queueIndex === BALLOON_INFLATE_QUEUE);
        q.pushUsed(l.mem, chain.head, 0);
      }
    } finally {
      if (q.needsInterrupt(l.mem)) l.interrupt.usedBuffer(queueIndex);
    }
  }

  /** Takes (inflate) or gives back (deflate) the pages a chain lists. */
  private movePages(mem: GuestMemory, chain: DescriptorChain, inflate: boolean): void {
    let budget = BALLOON_MAX_PFNS_PER_CHAIN;
    for (const d of chain.descriptors) {
      if (d.writable) {
        this.complain("pfn-writable", "a PFN buffer is device-writable; skipped");
        continue;
      }
      const count = Math.min(Math.floor(d.lengthBytes / 4), budget);
      if (count < Math.floor(d.lengthBytes / 4)) this.complain("pfn-cap", `a chain lists more than ${BALLOON_MAX_PFNS_PER_CHAIN} pages; the rest are ignored`);
      budget -= count;
      const pfns = mem.read(d.gpa, count * 4);
      const view = new DataView(pfns.buffer);
      for (let i = 0; i < count; i++) {
        const pfn = view.getUint32(4 * i, true);
        const gpa = pfn * BALLOON_PAGE_BYTES;
        if (!mem.contains(gpa, BALLOON_PAGE_BYTES)) {
          this.complain("pfn-range", `PFN 0x${pfn.toString(16)} is not a page of guest RAM; skipped`);
          continue;
        }
        if (!inflate) {
          this.inflated.delete(pfn);
        } else if (!this.inflated.has(pfn)) {
          this.inflated.add(pfn);
          discardPage(mem, gpa);
        }
      }
      if (budget === 0) break;
    }
  }

  /** The driver posted (or refilled) its stats buffer: hold it and answer whoever asked. */
  private receiveStats(mem: GuestMemory, chain: DescriptorChain): void {
    if (this.heldStats !== undefined) {
      // A second buffer while one is held: the driver broke the protocol; give the old one back.
      const l = this.lifecycle as ActivateContext;
      l.queues[BALLOON_STATS_QUEUE]!.pushUsed(mem, this.heldStats, 0);
      this.complain("stats-twice", "a second stats buffer was posted while one is held; the first is returned");
    }
    this.heldStats = chain.head;
    const stats: BalloonStat[] = [];
    for (const d of chain.descriptors) {
      if (d.writable) continue;
      const bytes = mem.read(d.gpa, Math.min(d.lengthBytes, BALLOON_STATS_COUNT * BALLOON_STAT_BYTES));
      const view = new DataView(bytes.buffer);
      for (let at = 0; at + BALLOON_STAT_BYTES <= bytes.length && stats.length < BALLOON_STATS_COUNT; at += BALLOON_STAT_BYTES) {
        stats.push({ tag: view.getUint16(at, true), value: view.getBigUint64(at + 2, true) });
      }
      break; // one buffer, as the driver sends and kvmtool reads
    }
    this.latestStats = stats;
    this.answerStats(stats);
  }

  private answerStats(stats: BalloonStat[] | undefined): void {
    const waiters = this.statsWaiters;
    this.statsWaiters = [];
    for (const w of waiters) w(stats);
  }

  private complain(key: string, message: string): void {
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.log(`${this.name}: ${message}`);
  }
}

/**
 * What MADV_DONTNEED would leave: a page of zeros. A page already all zeros (Linux zeroes the
 * pages it allocates for the balloon when init_on_alloc is on) is not written again, which
 * spares the JIT an invalidation.
 */
function discardPage(mem: GuestMemory, gpa: number): void {
  const page = mem.view(gpa, BALLOON_PAGE_BYTES);
  const words = page.byteOffset % 4 === 0 ? new Uint32Array(page.buffer, page.byteOffset, BALLOON_PAGE_BYTES / 4) : page;
  if (words.every((w) => w === 0)) return;
  mem.fill(gpa, BALLOON_PAGE_BYTES, (view) => view.fill(0));
}
