/**
 * The byte layout of a SCSI ring's shared control block, mirrored from
 * `src/native/ring_layout.h` (the addon's `ringLayout()` reports the same numbers;
 * `test/ring-layout.test.ts` checks they agree). Offsets are bytes; 32-bit words are
 * read and written with `Atomics` on an `Int32Array` over the block.
 * @module
 * @internal
 */

/** Layout constants (see ring_layout.h for what each word means and who writes it). @internal */
export const RING = {
  offSqTail: 64,
  offSqHead: 128,
  offCredits: 192,
  offSleeping: 256,
  offWaiters: 320,
  offClosing: 384,
  offStats: 512,
  statCount: 16,
  offProducerTable: 1024,
  producerRecord: 128,
  prodCqTail: 4,
  prodCqHead: 64,
  offSq: 1024 + 32 * 128,
  sqeSize: 96,
  sqeUserData: 8,
  sqeCdbLength: 16,
  sqeDirection: 17,
  sqeAttribute: 18,
  sqeProducer: 19,
  sqeBufferIndex: 20,
  sqeBufferOffset: 24,
  sqeLength: 28,
  sqeTimeout: 32,
  sqeTag: 36,
  sqeMaxSense: 44,
  sqeFlags: 46,
  sqeCdb: 48,
  cqeSize: 160,
  cqeUserData: 0,
  cqeErrno: 8,
  cqeDeviceStatus: 12,
  cqeTransport: 16,
  cqeDriver: 20,
  cqeDinResid: 24,
  cqeDoutResid: 28,
  cqeSenseLength: 32,
  cqeDurationUs: 36,
  cqeInfo: 40,
  cqeTag: 44,
  cqeFlags: 52,
  cqeSense: 64,
  senseBytes: 96,
  closedCredits: 1 << 30,
  maxProducers: 32,
  maxCdb: 32,
} as const;

/** Data direction codes of a submission entry. @internal */
export const RING_DIRECTION = { none: 0, in: 1, out: 2 } as const;

/** Submission flags. @internal */
export const RING_FLAG = { directIo: 1, queueAtTail: 2 } as const;

/** Completion flag: the entry was removed from the SQ by an abort and never sent. @internal */
export const CQE_CANCELLED = 1;

/** Names of the uint64 counters at `offStats`, in order (ring_layout.h `Stat`). @internal */
export const RING_STAT_NAMES = [
  'submitted',
  'completed',
  'cancelled',
  'writeCalls',
  'writevCalls',
  'readvCalls',
  'pollCalls',
  'ioctlCalls',
  'doorbells',
  'consumerWakeups',
  'completionWakes',
  'jsWakeups',
  'batches',
  'inlineDoorbells',
  'loopReaps',
] as const;

/** Byte offset of producer `p`'s completion queue. @internal */
export function cqOffset(entries: number, producer: number): number {
  return RING.offSq + entries * RING.sqeSize + producer * entries * RING.cqeSize;
}
