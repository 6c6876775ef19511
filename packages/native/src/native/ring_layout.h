// The byte layout of a SCSI ring's shared memory: one control block (header, counters,
// producer table, submission queue, one completion queue per producer) that JavaScript
// and the addon's consumer threads both read and write. packages/native/src/ring-layout.ts
// mirrors every constant here; test/ring-layout.test.ts checks the two agree through
// the addon's ringLayout() export.
//
// The shape follows io_uring (io_uring/io_uring.c, include/uapi/linux/io_uring.h):
// free-running 32-bit counters indexed with `& mask`, fixed-size submission entries,
// completion entries carrying the caller's 64-bit user data. Differences, and why:
// - the submission queue has many producers (JS threads) and one logical consumer (the
//   addon), so each entry carries its own publication word (`state`) instead of one
//   tail that only a single producer may advance;
// - there is one completion queue per attached JS thread (producer), so each CQ keeps
//   io_uring's single-producer/single-consumer rule on the JS side;
// - no SQ index array (like IORING_SETUP_NO_SQARRAY, Linux 6.6): entries are consumed in
//   claim order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sgv4::ring {

constexpr uint32_t kMagic = 0x53475652;  // "SGVR"
constexpr uint32_t kVersion = 1;

// Header words (byte offsets; each hot counter on its own 64-byte cache line).
constexpr size_t kOffMagic = 0;
constexpr size_t kOffVersion = 4;
constexpr size_t kOffEntries = 8;        // submission entries (power of two, >= 4)
constexpr size_t kOffProducers = 12;     // producer slots (= completion queues)
constexpr size_t kOffQueueDepth = 16;    // commands the consumer keeps in the kernel at once
constexpr size_t kOffBufferCount = 20;
constexpr size_t kOffBufferSize = 24;    // bytes per registered buffer (a multiple of the page size)
constexpr size_t kOffKind = 28;          // 1 = sg consumer, 2 = bsg consumer
constexpr size_t kOffMmapSlots = 32;     // sg: registered buffers bufferCount.. that are mmap-ed reserves
constexpr size_t kOffSgThreads = 36;     // sg: 1 when the consumer is blocking SG_IO threads (RingConfig::sg_threads)
constexpr size_t kOffReserveBytes = 40;  // sg: the smallest reserved buffer among the consumer's command fds (SG_GET_RESERVED_SIZE); 0 on bsg
constexpr size_t kOffSqTail = 64;        // next claim position (JS producers, Atomics.add)
constexpr size_t kOffSqHead = 128;       // next position the consumer takes
constexpr size_t kOffCredits = 192;      // free capacity: entries - (claimed and not yet reaped)
constexpr size_t kOffSleeping = 256;     // sg: 1 while the consumer thread sleeps in poll(); bsg: idle threads
constexpr size_t kOffWaiters = 320;      // JS threads with callers waiting for credits
constexpr size_t kOffClosing = 384;      // 1 once close() began (or the owner's environment went away)
constexpr size_t kOffStats = 512;        // kStatCount uint64 counters

/** Credits subtracted at close: no producer can take one again, returned ones still add up. */
constexpr int32_t kClosedCredits = 1 << 30;

enum Stat : size_t {
  kStatSubmitted = 0,     // commands handed to the kernel
  kStatCompleted,         // completion entries posted (cancelled ones included)
  kStatCancelled,         // entries removed from the SQ by an abort, never sent
  kStatWriteCalls,        // write() on sg
  kStatWritevCalls,       // writev() on sg (batches)
  kStatReadvCalls,        // readv() on sg, EAGAIN answers included
  kStatPollCalls,         // poll() of the sg consumer thread
  kStatIoctlCalls,        // SG_IO of the bsg threads
  kStatDoorbells,         // doorbell() calls that found the consumer asleep and woke it
  kStatConsumerWakeups,   // consumer thread wake-ups (poll() returns, condition-variable wakes)
  kStatCompletionWakes,   // uv_async_send() calls towards JS threads
  kStatJsWakeups,         // completion callbacks run on JS threads
  kStatBatches,           // consumer passes that posted >= 1 completion
  kStatInlineDoorbells,   // sg: doorbells that submitted inline in the JS thread (the consumer slept)
  kStatLoopReaps,         // sg: uv_poll callbacks that reaped on a JS thread's own event loop
  kStatCount = 16,
};

// The producer table: one 128-byte record per producer (completion tail on its own line).
constexpr size_t kOffProducerTable = 1024;
constexpr size_t kProducerRecord = 128;
constexpr size_t kMaxProducers = 32;
// kProdState and kProdCqTail are copies of the addon's own table (RingCore's ProducerLink),
// written for JavaScript to read; the addon never reads them back.
constexpr size_t kProdState = 0;     // 0 free, 1 attached, 2 gone (its environment was torn down)
constexpr size_t kProdCqTail = 4;    // written by the addon (release), read by the JS thread (acquire)
constexpr size_t kProdCqHead = 64;   // written by the JS thread, read by the addon

constexpr size_t kOffSq = kOffProducerTable + kMaxProducers * kProducerRecord;  // 5120

/** One submission entry: an sg_io_v4-shaped request naming a registered buffer. */
constexpr size_t kSqeSize = 96;
constexpr size_t kSqeState = 0;         // publication word, see below
constexpr size_t kSqeUserData = 8;      // u64 (two u32 words, low first)
constexpr size_t kSqeCdbLength = 16;    // u8, 6..32
constexpr size_t kSqeDirection = 17;    // u8, kDir*
constexpr size_t kSqeAttribute = 18;    // u8, task attribute (sg_io_v4.request_attr)
constexpr size_t kSqeProducer = 19;     // u8, the producer (completion queue) index
constexpr size_t kSqeBufferIndex = 20;  // u32
constexpr size_t kSqeBufferOffset = 24; // u32
constexpr size_t kSqeLength = 28;       // u32, data bytes (0 with kDirNone)
constexpr size_t kSqeTimeout = 32;      // u32, milliseconds
constexpr size_t kSqeTag = 36;          // u64 task tag (sg_io_v4.request_tag), echoed in the completion
constexpr size_t kSqeMaxSense = 44;     // u16, <= kSenseBytes
constexpr size_t kSqeFlags = 46;        // u16, kFlag*
constexpr size_t kSqeCdb = 48;          // 32 bytes
constexpr size_t kMaxCdb = 32;

constexpr uint8_t kDirNone = 0;
constexpr uint8_t kDirFromDevice = 1;
constexpr uint8_t kDirToDevice = 2;

constexpr uint16_t kFlagDirectIo = 1;   // sg: SG_FLAG_DIRECT_IO (used only if /proc/scsi/sg/allow_dio = 1)
constexpr uint16_t kFlagQueueAtTail = 2;// bsg: BSG_FLAG_Q_AT_TAIL; sg: SG_FLAG_Q_AT_TAIL

// The state word of the entry in slot s = pos & mask, for the entry claimed at `pos`:
//   published  = pos            (producer, release store, after writing the fields)
//   cancelled  = pos + 1        (producer's abort: compare-exchange from `published`)
//   consumed   = pos + 2        (consumer: compare-exchange from published/cancelled)
// All three belong to generation `pos` only: with >= 4 entries, pos + 1 and pos + 2 never
// equal the published value of another generation of the same slot (those are pos + k *
// entries), so an abort can never cancel a later occupant (no ABA). A producer may write
// slot s for position p only once it reads `consumed` of generation p - entries; the slot
// is initialised to that value (s - entries + 2).

/** One completion entry. */
constexpr size_t kCqeSize = 160;
constexpr size_t kCqeUserData = 0;      // u64
constexpr size_t kCqeErrno = 8;         // i32: 0 = the command ran; else the errno of the failed system call
constexpr size_t kCqeDeviceStatus = 12; // u32 SAM status
constexpr size_t kCqeTransport = 16;    // u32 host (transport) status
constexpr size_t kCqeDriver = 20;       // u32 driver status
constexpr size_t kCqeDinResid = 24;     // i32
constexpr size_t kCqeDoutResid = 28;    // i32
constexpr size_t kCqeSenseLength = 32;  // u32
constexpr size_t kCqeDurationUs = 36;   // u32, from the consumer's submission to its completion
constexpr size_t kCqeInfo = 40;         // u32, sg_io_hdr/sg_io_v4 info (SG_INFO_*)
constexpr size_t kCqeTag = 44;          // u64, the task tag as submitted
constexpr size_t kCqeFlags = 52;        // u32, kCqe*
constexpr size_t kCqeSense = 64;        // kSenseBytes
constexpr size_t kSenseBytes = 96;      // SCSI_SENSE_BUFFERSIZE (include/scsi/scsi_cmnd.h)

constexpr uint32_t kCqeCancelled = 1;   // removed from the SQ by an abort: never sent

/** Bytes of the control block for `entries` and `producers`. */
constexpr size_t ControlBytes(size_t entries, size_t producers) {
  return kOffSq + entries * kSqeSize + producers * entries * kCqeSize;
}
constexpr size_t CqOffset(size_t entries, size_t producer) {
  return kOffSq + entries * kSqeSize + producer * entries * kCqeSize;
}

}  // namespace sgv4::ring
