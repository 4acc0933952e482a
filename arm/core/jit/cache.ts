// The JIT's bookkeeping (docs/jit.md): the block map (key -> table slot), the heat table and
// the translation queue, the per-page chains that invalidation walks, and the table slots.
//
// A key is the wasm address of a block's first instruction (so: its physical address) with
// the EL in bit 0 and data big-endianness in bit 1: what translation depends on besides the
// bytes. All structures live in the JIT region of linear memory (arm/abi.ts).

import {
  JIT_MAP, JIT_MAP_ENTRIES, JIT_HEAT, JIT_HEAT_ENTRIES, JIT_QUEUE, JIT_QUEUE_ENTRIES, JIT_PAGES,
  JIT_PAGES_SIZE, JIT_SLOT_BASE, JIT_SLOTS, JIT_INFO, JI_QUEUED, JI_FLUSHES, JI_INVALIDATIONS,
  JI_DEAD, JI_IC_IALLU, JIT_FREE_SLOTS, JIT_DEAD_SLOTS, JIT_DEAD_ENTRIES, RAM_HOST_BASE, JIT_LOOKUP, JIT_LOOKUP_ENTRIES,
} from "../../abi";
import { pageSlot, requestJitStop } from "./marks";
import { tlbMarkCode, tlbClearCodeMarks, translate, walkFlags, walkPa, ramHost, ACC_READ, P_VALID, P_RAM } from "../mmu";
import { ramBase, ramSize } from "../ram";
import { shadowHasRoom, shadowCopy, shadowMatches, shadowReset } from "./code-shadow";

// ---- configuration (set by the VMM through jitConfigure) ----
export let jitEnabled: bool = false;
/** Interpreted visits of a block start before it is queued (0: queue at the first). */
export let jitThreshold: u32 = 50;
/** Stop run() with EXIT_JIT as soon as a block is queued (tests: translate before running). */
export let jitEager: bool = false;

export function configure(enabled: bool, threshold: u32, eager: bool): void {
  jitEnabled = enabled;
  jitThreshold = threshold;
  jitEager = eager;
}

// ---- the block map: open addressing, linear probing; a key once inserted stays (a dropped
// block keeps its key with slot 0, and is reused if the key is translated again) ----
export const B_KEY: usize = 0; // u32: key (0: empty)
export const B_SLOT: usize = 4; // u32: table slot of the block function (0: no live block)
export const B_LEN: usize = 8; // u32: instructions in the block
export const B_NEXT: usize = 12; // u32: next block of the same page (map index + 1; 0 ends)
// u32: which translation the slot holds. Versions are never reused (not even after a flush),
// so a direct call from another block checks it to know its callee is still this one.
export const B_VERSION: usize = 16;
// u32: the version of a translation of this key being compiled (0: none). A pending block is
// in its page's chain, so a write to the page cancels it (zeroes this) before it is committed.
export const B_PENDING: usize = 20;
// u32: where the copy of the block's words is (code-shadow.ts), and how many: set when it is
// built, compared at IC IALLU while the block is live or pending.
export const B_SHADOW: usize = 24;
export const B_WORDS: usize = 28;
const ENTRY_BYTES: usize = 32;
const MAP_ENTRIES: u32 = JIT_MAP_ENTRIES;
const SLOT_END: u32 = JIT_SLOT_BASE + JIT_SLOTS;
const QUEUE_ENTRIES: u32 = JIT_QUEUE_ENTRIES;
const MAP_MASK: u32 = JIT_MAP_ENTRIES - 1;
const MAP_SHIFT: u32 = 32 - ctz<u32>(JIT_MAP_ENTRIES);
/** Keys in the map; the cache is dropped before it passes half the capacity. */
let mapUsed: u32 = 0;

// ---- table slots: never used ones from nextSlot up, and a stack of slots of dropped blocks.
// A dropped block's slot also goes on the dead list, for the VMM to clear, so that its module
// can be collected once no slot refers to it ----
let nextSlot: u32 = JIT_SLOT_BASE;
let freeSlots: u32 = 0;
const DEAD_ENTRIES: u32 = JIT_DEAD_ENTRIES;

/** A table slot for a new block function (cacheHasRoom said there is one). */
export function allocSlot(): u32 {
  if (freeSlots != 0) {
    freeSlots--;
    return load<u32>(JIT_FREE_SLOTS + (<usize>freeSlots << 2));
  }
  return nextSlot++;
}

function releaseSlot(slot: u32): void {
  store<u32>(JIT_FREE_SLOTS + (<usize>freeSlots << 2), slot);
  freeSlots++;
  const dead = load<u32>(JIT_INFO + JI_DEAD);
  if (dead < DEAD_ENTRIES) {
    store<u32>(JIT_DEAD_SLOTS + (<usize>dead << 2), slot);
    store<u32>(JIT_INFO + JI_DEAD, dead + 1);
  }
}

@inline export function blockKey(host: usize, el: u32, bigEndian: bool): u32 {
  return <u32>host | el | (bigEndian ? 2 : 0);
}

@inline function entryAt(index: u32): usize {
  return JIT_MAP + <usize>index * ENTRY_BYTES;
}

/** The map entry for key (live or dropped), or 0. */
@inline export function findBlock(key: u32): usize {
  let i = (key * 0x9e3779b1) >>> MAP_SHIFT;
  while (true) {
    const e = entryAt(i);
    const k = load<u32>(e + B_KEY);
    if (k == key) return e;
    if (k == 0) return 0;
    i = (i + 1) & MAP_MASK;
  }
  return 0;
}

// ---- the lookup cache: a direct-mapped copy of the live blocks' (key, slot, length) that the
// run loop reads before the map. The map is 2 MiB, so a probe there is a cache miss on the
// host more often than not (measured: a quarter of the run loop's time in the Linux boot).
// Every change of a key's slot in the map goes through setLookup/clearLookup. ----
export const LOOKUP_SHIFT: u32 = 32 - ctz<u32>(JIT_LOOKUP_ENTRIES);
export const LOOKUP_HASH: u32 = 0x9e3779b1;

@inline function lookupEntry(key: u32): usize {
  return JIT_LOOKUP + (<usize>((key * LOOKUP_HASH) >>> LOOKUP_SHIFT) << 3);
}

/**
 * The live block for key as slot | length << 16, or 0 if it has none. Slots and lengths both
 * fit in 16 bits (JIT_SLOT_BASE + JIT_SLOTS and MAX_BLOCK_INSNS).
 */
@inline export function lookupBlock(key: u32): u32 {
  const c = lookupEntry(key);
  if (load<u32>(c) == key) return load<u32>(c + 4);
  return lookupMiss(key, c);
}

function lookupMiss(key: u32, c: usize): u32 {
  const e = findBlock(key);
  if (e == 0) return 0;
  const slot = load<u32>(e + B_SLOT);
  if (slot == 0) return 0;
  const packed = slot | (load<u32>(e + B_LEN) << 16);
  store<u32>(c, key);
  store<u32>(c + 4, packed);
  return packed;
}

function clearLookup(key: u32): void {
  const c = lookupEntry(key);
  if (load<u32>(c) == key) store<u32>(c, 0);
}

/** Whether `count` more blocks fit without dropping the cache. */
export function cacheHasRoom(count: u32, wordsEach: u32): bool {
  return freeSlots + (SLOT_END - nextSlot) >= count && (mapUsed + count) * 2 <= MAP_ENTRIES && shadowHasRoom(count * wordsEach);
}

/** The next translation's version (see B_VERSION). */
export let nextVersion: u32 = 1;

/** The map entry for key, created (with no live block) if there is none. */
export function reserveEntry(key: u32): usize {
  let i = (key * 0x9e3779b1) >>> MAP_SHIFT;
  while (true) {
    const e = entryAt(i);
    const k = load<u32>(e + B_KEY);
    if (k == key) return e;
    if (k == 0) {
      store<u32>(e + B_KEY, key);
      mapUsed++;
      return e;
    }
    i = (i + 1) & MAP_MASK;
  }
  return 0;
}

/** Whether key has a live block or one being compiled. */
export function isTranslated(key: u32): bool {
  const e = findBlock(key);
  return e != 0 && (load<u32>(e + B_SLOT) | load<u32>(e + B_PENDING)) != 0;
}

/**
 * Marks key as being compiled as translation `version` (a new one: see nextVersion) and puts
 * it in its page's chain, so that from now on a write to the page cancels it. Returns its map
 * entry. The key has no live or pending block (isTranslated), so its entry is in no chain.
 */
export function pendBlock(key: u32, version: u32): usize {
  const e = reserveEntry(key);
  const i = <u32>((e - JIT_MAP) / ENTRY_BYTES);
  store<u32>(e + B_PENDING, version);
  if (version >= nextVersion) nextVersion = version + 1;
  // The page's first block marks the page as code.
  const ps = pageSlot(<usize>(key & ~3));
  const head = load<u32>(ps);
  if (head == 0) tlbMarkCode(hostToPa(<usize>(key & ~3)), true);
  store<u32>(e + B_NEXT, head);
  store<u32>(ps, i + 1);
  return e;
}

/**
 * Makes pending translation `version` of key live in table slot `slot`; false if it was
 * cancelled (its page was written, or the cache dropped) since pendBlock.
 */
export function commitBlock(key: u32, slot: u32, len: u32, version: u32): bool {
  const e = findBlock(key);
  if (e == 0 || load<u32>(e + B_PENDING) != version) return false;
  clearLookup(key);
  // A live block translated again (into a bigger region) gives its old slot back.
  const old = load<u32>(e + B_SLOT);
  if (old != 0) releaseSlot(old);
  store<u32>(e + B_SLOT, slot);
  store<u32>(e + B_LEN, len);
  store<u32>(e + B_VERSION, version);
  store<u32>(e + B_PENDING, 0);
  return true;
}

/** Records the words pending block `entry` was translated from (its first `words` at its key). */
export function keepWords(entry: usize, words: u32): void {
  store<u32>(entry + B_SHADOW, shadowCopy(<usize>(load<u32>(entry + B_KEY) & ~3), words));
  store<u32>(entry + B_WORDS, words);
}

/**
 * Marks live key as being translated again as `version` (into a region with other blocks of
 * its page): it stays live, and in its page's chain, until the new translation is committed.
 */
export function pendAgain(e: usize, version: u32): void {
  store<u32>(e + B_PENDING, version);
  if (version >= nextVersion) nextVersion = version + 1;
}

/** The map entry of the first block (live or pending) of the page holding wasm address host, or 0. */
export function firstInPage(host: usize): usize {
  const link = load<u32>(pageSlot(host));
  return link == 0 ? 0 : entryAt(link - 1);
}

/** The next block of the same page after map entry e, or 0. */
export function nextInPage(e: usize): usize {
  const link = load<u32>(e + B_NEXT);
  return link == 0 ? 0 : entryAt(link - 1);
}

// ---- how often each page's region was translated (hashed by page; a collision only makes
// a page count another's builds): region.ts bounds retranslation with it ----
const REBUILD_ENTRIES: u32 = 0x10000;
const rebuilds = new StaticArray<u8>(REBUILD_ENTRIES);

@inline function rebuildIndex(host: usize): i32 {
  return <i32>((<u32>host >> 12) & (REBUILD_ENTRIES - 1));
}

export function regionBuilds(host: usize): u32 {
  return rebuilds[rebuildIndex(host)];
}

export function countRegionBuild(host: usize): void {
  const i = rebuildIndex(host);
  if (rebuilds[i] < 255) rebuilds[i]++;
}

/** Gives back the table slot of a translation that was never committed. */
export function discardSlot(slot: u32): void {
  releaseSlot(slot);
}

@inline function hostToPa(host: usize): u64 {
  return (<u64>(host - RAM_HOST_BASE) + ramBase) & ~<u64>0xfff;
}

// ---- heat and the queue ----
const HEAT_SHIFT: u32 = 32 - ctz<u32>(JIT_HEAT_ENTRIES);
/**
 * A heat count meaning "in the queue": the key is not queued again while it waits (modules in
 * flight at their limit), until jitBuild takes it (unqueueHeat) or the entry goes to another key.
 */
const HEAT_QUEUED: u32 = 0xffffffff;

@inline function heatEntry(key: u32): usize {
  return JIT_HEAT + (<usize>((key * 0x85ebca6b) >>> HEAT_SHIFT) << 3);
}

/** Whether key waits in the queue (as far as the heat table knows). */
export function heatQueued(key: u32): bool {
  const h = heatEntry(key);
  return load<u32>(h) == key && load<u32>(h + 4) == HEAT_QUEUED;
}

/** jitBuild took key from the queue: its heat starts again from 0. */
export function unqueueHeat(key: u32): void {
  const h = heatEntry(key);
  if (load<u32>(h) == key) store<u32>(h + 4, 0);
}
let queued: u32 = 0;
/** Queue length at which run() stops early so the VMM can translate before the slice ends. */
const QUEUE_DRAIN_AT: u32 = QUEUE_ENTRIES / 2;

/**
 * Counts one interpreted visit of a block start. Returns true when run() should stop with
 * EXIT_JIT so that the queue is translated now.
 */
export function countHeat(key: u32): bool {
  const h = heatEntry(key);
  let count: u32 = 1;
  if (load<u32>(h) == key) {
    count = load<u32>(h + 4);
    if (count == HEAT_QUEUED) return false; // in the queue already
    count++;
  } else {
    store<u32>(h, key);
  }
  if (count > jitThreshold) {
    if (queued >= QUEUE_ENTRIES) { // full: the key gets hot again later
      store<u32>(h + 4, 0);
      return false;
    }
    store<u32>(h + 4, HEAT_QUEUED);
    store<u32>(JIT_QUEUE + (<usize>queued << 2), key);
    queued++;
    store<u32>(JIT_INFO + JI_QUEUED, queued);
    // Once, as the queue reaches the mark: when the VMM cannot translate yet (modules still
    // compiling), the run goes on and the queue keeps filling.
    return jitEager || queued == QUEUE_DRAIN_AT;
  }
  store<u32>(h + 4, count);
  return false;
}

@inline export function queueLength(): u32 {
  return queued;
}

@inline export function queuedKey(i: u32): u32 {
  return load<u32>(JIT_QUEUE + (<usize>i << 2));
}

/** Removes the first `n` keys of the queue. */
export function dequeue(n: u32): void {
  if (n >= queued) {
    queued = 0;
  } else {
    memory.copy(JIT_QUEUE, JIT_QUEUE + (<usize>n << 2), <usize>(queued - n) << 2);
    queued -= n;
  }
  store<u32>(JIT_INFO + JI_QUEUED, queued);
}

// ---- dropping code ----

/** Drops every block (the cache is full). The VMM clears the table slots. */
export function flushAll(): void {
  memory.fill(JIT_MAP, 0, <usize>JIT_MAP_ENTRIES * ENTRY_BYTES);
  memory.fill(JIT_HEAT, 0, <usize>JIT_HEAT_ENTRIES * 8);
  memory.fill(JIT_LOOKUP, 0, <usize>JIT_LOOKUP_ENTRIES * 8);
  memory.fill(JIT_PAGES, 0, min<usize>(JIT_PAGES_SIZE, <usize>(ramSize >> 12) << 2));
  mapUsed = 0;
  shadowReset();
  memory.fill(changetype<usize>(rebuilds), 0, REBUILD_ENTRIES);
  nextSlot = JIT_SLOT_BASE;
  freeSlots = 0;
  store<u32>(JIT_INFO + JI_DEAD, 0); // the VMM clears every slot after a flush
  tlbClearCodeMarks();
  requestJitStop();
  store<u32>(JIT_INFO + JI_FLUSHES, load<u32>(JIT_INFO + JI_FLUSHES) + 1);
}

/** Drops the blocks of the guest RAM page holding wasm address `host`. */
export function jitInvalidateHostPage(host: usize): void {
  const ps = pageSlot(host);
  let link = load<u32>(ps);
  if (link == 0) return;
  while (link != 0) {
    const e = entryAt(link - 1);
    const slot = load<u32>(e + B_SLOT);
    if (slot != 0) {
      clearLookup(load<u32>(e + B_KEY));
      releaseSlot(slot);
    }
    store<u32>(e + B_SLOT, 0);
    store<u32>(e + B_VERSION, 0);
    store<u32>(e + B_PENDING, 0); // a block being compiled is cancelled (its slot goes back at commit)
    link = load<u32>(e + B_NEXT);
    store<u32>(e + B_NEXT, 0);
  }
  store<u32>(ps, 0);
  rebuilds[rebuildIndex(host)] = 0; // new code in the page grows its region afresh
  tlbMarkCode(hostToPa(host), false);
  requestJitStop();
  store<u32>(JIT_INFO + JI_INVALIDATIONS, load<u32>(JIT_INFO + JI_INVALIDATIONS) + 1);
}

/**
 * IC IALLU(IS): drops the blocks (live or being compiled) whose instruction words changed since
 * they were translated, with the rest of their pages; the others are still exact
 * (code-shadow.ts).
 */
export function jitInvalidateAll(): void {
  if (!jitEnabled) return;
  store<u32>(JIT_INFO + JI_IC_IALLU, load<u32>(JIT_INFO + JI_IC_IALLU) + 1);
  for (let i: u32 = 0; i < MAP_ENTRIES; i++) {
    const e = entryAt(i);
    if ((load<u32>(e + B_SLOT) | load<u32>(e + B_PENDING)) == 0) continue;
    const host = <usize>(load<u32>(e + B_KEY) & ~3);
    if (!shadowMatches(load<u32>(e + B_SHADOW), host, load<u32>(e + B_WORDS))) jitInvalidateHostPage(host);
  }
}

/**
 * IC IVAU: drops the blocks of the page holding va, if it translates (no permission is needed,
 * and a translation failure is no fault: the line is simply not cached).
 */
export function jitInvalidateVa(va: u64): void {
  if (!jitEnabled || !translate(va, ACC_READ, P_VALID) || (walkFlags & P_RAM) == 0) return;
  jitInvalidateHostPage(ramHost(walkPa));
}

/** Drops the blocks of every page overlapping guest physical [pa, pa + lengthBytes) in RAM. */
export function invalidatePhysRange(pa: u64, lengthBytes: u64): void {
  if (lengthBytes == 0) return;
  let start = pa < ramBase ? ramBase : pa;
  const endPa = pa + lengthBytes;
  const ramEndPa = ramBase + ramSize;
  const stop = endPa > ramEndPa ? ramEndPa : endPa;
  start &= ~<u64>0xfff;
  for (let p = start; p < stop; p += 0x1000) {
    jitInvalidateHostPage(RAM_HOST_BASE + <usize>(p - ramBase));
  }
}
