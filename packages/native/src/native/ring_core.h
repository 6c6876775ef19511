// The native half of a SCSI ring: its shared memory, the consumer side of the submission
// queue, the producer side of the completion queues, and the registry that lets other
// JS threads (worker_threads) attach to a ring by id.
//
// Memory ordering (the argument in docs/guides/ring.md, "Memory ordering"):
// - JS writes an entry's fields with plain stores, then publishes it with Atomics.store
//   on its state word (sequentially consistent, so at least a release); the consumer
//   reads the state word with an acquire compare-exchange and only then copies the fields,
//   once, into a private SqeCopy it validates (io_uring's rule; and the bsg uring_cmd
//   double-fetch fix: never read a shared field twice).
// - The consumer writes a completion entry with plain stores, then publishes the queue's
//   tail with a release store; JS reads the tail with Atomics.load (acquire) before reading
//   entries, and publishes its head after reading them.
// - Capacity is a credit counter, not a head/tail comparison: a producer takes a credit
//   before claiming a position and the credit comes back only when its completion was
//   reaped, so at most `entries` requests exist between claim and reap; hence a claimed
//   slot is always free and no completion queue can overflow.
// - The "consumer sleeps" flag and the SQ are a Dekker pair (store flag, then re-check
//   the SQ; publish, then load the flag), both sides sequentially consistent, like the
//   full barrier io_uring asks between the SQ tail and IORING_SQ_NEED_WAKEUP.
// - Trust (docs/guides/ring.md, "What the addon trusts"): any attached JS thread can write
//   any shared word. Producer ownership and CQ tails live in ProducerLink, and Drained()
//   believes the JS credit count only together with the addon's own counts, so a corrupted
//   page can hurt only its ring's requests: never two threads on one record, never consumers
//   stopped while an entry is claimed, in a consumer or the kernel, or posted and unreaped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "libuv_abi.h"
#include "native_memory.h"
#include "ring_layout.h"

namespace sgv4 {

/** One submission entry as the consumer copied it out of shared memory (read once). */
struct SqeCopy {
  uint32_t pos = 0;
  uint64_t user_data = 0;
  uint8_t cdb_length = 0;
  uint8_t direction = 0;
  uint8_t attribute = 0;
  uint8_t producer = 0;
  uint32_t buffer_index = 0;
  uint32_t buffer_offset = 0;
  uint32_t length = 0;
  uint32_t timeout_ms = 0;
  uint64_t tag = 0;
  uint16_t max_sense = 0;
  uint16_t flags = 0;
  uint8_t cdb[ring::kMaxCdb] = {};
};

/** What a consumer posts for one entry. */
struct CqeCopy {
  uint64_t user_data = 0;
  int32_t error = 0;
  uint32_t device_status = 0;
  uint32_t transport_status = 0;
  uint32_t driver_status = 0;
  int32_t din_resid = 0;
  int32_t dout_resid = 0;
  uint32_t sense_length = 0;
  uint32_t duration_us = 0;
  uint32_t info = 0;
  uint64_t tag = 0;
  uint32_t flags = 0;
  uint8_t producer = 0;
  uint8_t sense[ring::kSenseBytes] = {};
};

/** What the SQ held at the consumer's head. */
enum class TakeResult { kEmpty, kTaken, kCancelled };

struct RingConfig {
  std::string path;
  int kind = 0;  // 1 sg, 2 bsg
  uint32_t entries = 0;
  uint32_t producers = 0;
  uint32_t queue_depth = 0;
  uint32_t buffer_count = 0;
  uint32_t buffer_size = 0;  // rounded up to pages
  uint32_t spin_us = 0;      // sg: how long the consumer polls the SQ before sleeping
  uint32_t mmap_slots = 0;   // sg: fds whose reserved buffer is mmap-ed and registered after the others
  uint32_t loop_reap_depth = 0;  // sg: at most this many commands in the kernel are reaped by their JS thread's loop
  bool timing = true;  // durations from the consumer's clock (two reads per batch), else the kernel's (ms)
  uint32_t completion_batch = 1;  // threads consumers: completions announced to JS per wake-up while more entries are ready
  bool sg_threads = false;  // sg: queue_depth threads each running blocking SG_IO on its own fd, not write()/readv()
};

/**
 * One mmap-ed sg reserved buffer (sg_mmap in drivers/scsi/sg.c), shared by the consumer
 * and every JS view of it; munmap when the last reference goes. munmap while the fd is
 * still open is safe: the reserve's pages belong to the fd (sg_remove_scat frees them at
 * release), the mapping only refers to them.
 */
class SharedMapping {
 public:
  SharedMapping(void* address, size_t length) : address_(address), length_(length) {}
  uint8_t* data() const { return static_cast<uint8_t*>(address_); }
  size_t length() const { return length_; }
  void Retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Release();

 private:
  ~SharedMapping();
  void* address_;
  size_t length_;
  std::atomic<uint32_t> refs_{1};
};

class RingConsumer;

/**
 * One producer record as the addon knows it, under RingCore's mutex. The producer table in
 * shared memory mirrors `state` and `cq_tail` for JavaScript to read, but JavaScript can also
 * write those words, so the addon never reads them back: which record is taken, and how many
 * completions it was posted, are decided here.
 */
struct ProducerLink {
  enum class State : uint8_t { kFree, kAttached, kGone };
  State state = State::kFree;   // records are used once: a gone one is never handed out again
  uv_async_t* async = nullptr;  // the JS thread's async handle (owned by its port) while attached
  uint32_t cq_tail = 0;         // completions posted to this CQ (the tail word is a copy of it)
};

class RingCore : public std::enable_shared_from_this<RingCore> {
 public:
  /** Maps the memory and opens the device; nullptr with *err / *syscall on failure. */
  static std::shared_ptr<RingCore> Create(const RingConfig& config, int* err, const char** syscall);
  /** A ring by id (for attach from another thread), or nullptr. */
  static std::shared_ptr<RingCore> Find(uint32_t id);

  RingCore(const RingCore&) = delete;
  RingCore& operator=(const RingCore&) = delete;
  ~RingCore();

  uint32_t id() const { return id_; }
  const RingConfig& config() const { return config_; }
  MemoryBlock* control_block() const { return control_.get(); }
  MemoryBlock* buffer_block() const { return buffers_.get(); }
  uint8_t* buffer_base() const { return buffers_.data(); }
  size_t buffer_stride() const { return config_.buffer_size; }

  /** An int32 word of the control block, for atomic access. */
  int32_t* Word(size_t offset) const { return reinterpret_cast<int32_t*>(control_.data() + offset); }
  void Count(ring::Stat stat, uint64_t n = 1) const;

  /** Attaches the calling JS thread's async handle; producer index or -1 when all slots are taken. */
  int Attach(uv_async_t* async);
  /**
   * The producer's environment is going away (or detached): no more wakes; completions it
   * will never reap give their credits back at once, as do the ones already posted.
   */
  void Detach(int producer);

  /** Consumer side (callers serialise): the entry at the SQ head. */
  TakeResult TakeNext(SqeCopy* out);
  /** Whether an entry (published or cancelled) is waiting at the SQ head. */
  bool SqReady() const;
  /** Positions claimed by producers and not yet taken (some maybe not yet published). Under the consumer's lock. */
  uint32_t SqBacklog() const;
  /** Posts completions (any thread) and wakes each JS thread concerned once, but `quiet_producer` (the caller). */
  /**
   * Publishes completions and wakes their JS threads. With `may_defer` (the caller will post
   * again soon: more entries are ready to run) and completion_batch > 1, the wake-up waits
   * until completion_batch completions are unannounced; any Post without it announces all.
   */
  void Post(const CqeCopy* cqes, size_t count, int quiet_producer = -1, bool may_defer = false);
  /** sg: the consumer registers its mmap-ed reserves (the core keeps one reference each). */
  void SetMmapRegions(std::vector<SharedMapping*> regions) { mmap_regions_ = std::move(regions); }
  SharedMapping* mmap_region(size_t i) const { return i < mmap_regions_.size() ? mmap_regions_[i] : nullptr; }
  /** Wakes every attached JS thread (credits came back or the ring stopped). */
  void WakeAll();
  /** Returns `n` credits and wakes waiting producers. */
  void ReturnCredits(int32_t n);

  /** The consumer (its threads find themselves through the core they keep alive). */
  RingConsumer* consumer_for_threads() const { return consumer_.get(); }
  /**
   * Rings the doorbell from JS thread `producer`: the sg consumer submits inline when it
   * sleeps; otherwise wakes it. Returns RingConsumer::kReapNow / kLoopPoll bits.
   * `can_loop`: the caller has a uv_poll on loop_fd() and may become the loop reaper.
   */
  uint32_t Doorbell(uint32_t count, int producer, bool can_loop);
  /** The uv_poll on loop_fd() of JS thread `producer` fired: reap on that thread (same bits). */
  uint32_t LoopReap(int producer);
  /** JS thread `producer` stops reaping on its loop (its poll failed): the consumer thread takes over. */
  void LoopGone(int producer);
  /** sg: the fd a JS thread's loop watches to reap on its own thread (-1: none). */
  int loop_fd() const;
  /**
   * Stops accepting (credits closed) and lets the consumers exit once nothing is left in
   * the SQ or the kernel; `notify` producers' callbacks see `stopped()` afterwards.
   */
  void Shutdown();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  /**
   * Closing and every credit back: each request ever claimed was completed and reaped (or
   * its thread is gone), so nothing is in the SQ, the kernel or a completion queue. The
   * credit count is JavaScript's word, so it is only believed together with what the addon
   * knows itself: every entry it took was posted (none in a consumer or the kernel), no
   * claimed position is left untaken, and every attached producer's CQ head has reached the
   * tail the addon posted. Callers hold the consumer's lock (TakeNext's serialisation).
   */
  bool Drained();
  /** Called by the consumer when its last thread is about to exit. */
  void OnConsumerStopped();

 private:
  RingCore(const RingConfig& config, BlockRef control, BlockRef buffers);

  uint32_t id_;
  RingConfig config_;
  BlockRef control_;
  BlockRef buffers_;
  uint32_t mask_;
  uint32_t head_ = 0;  // consumer's SQ head (callers of TakeNext serialise)
  std::mutex mutex_;   // producers_, posted_ and completion-queue tails
  std::vector<ProducerLink> producers_;
  uint32_t posted_ = 0;  // completions posted for taken entries, orphans included (under mutex_)
  uint64_t deferred_mask_ = 0;    // producers with completions not yet announced (under mutex_)
  uint32_t deferred_count_ = 0;   // how many
  std::unique_ptr<RingConsumer> consumer_;
  std::vector<SharedMapping*> mmap_regions_;
  std::atomic<bool> stopped_{false};
};

/** A consumer: the threads that move entries from the SQ into the kernel and back. */
class RingConsumer {
 public:
  /** Inline()/LoopReap() answer: completions for the caller were posted without a wake-up: reap them now. */
  static constexpr uint32_t kReapNow = 1;
  /** Inline()/LoopReap() answer: the caller's loop is the reaper: keep its uv_poll on LoopFd() started. */
  static constexpr uint32_t kLoopPoll = 2;

  virtual ~RingConsumer() = default;
  /** Opens the device and starts the thread(s); 0 or an errno (*syscall names the call). */
  virtual int Start(const char** syscall) = 0;
  virtual void Wake(uint32_t count) = 0;
  /**
   * A JS thread's doorbell: submit inline if possible (kReapNow / kLoopPoll bits). With `can_loop`
   * the caller may become the loop reaper of what it left in the kernel.
   */
  virtual uint32_t Inline(int producer, bool can_loop) { return 0; }
  /** The loop reaper's uv_poll fired, on its own thread (kReapNow / kLoopPoll bits). */
  virtual uint32_t LoopReap(int producer) { return 0; }
  /** The fd a loop reaper polls (readable while a reply waits on any of the consumer's fds), or -1. */
  virtual int LoopFd() const { return -1; }
  /** JS thread `producer` detaches: it can no longer reap on its loop. */
  virtual void ProducerGone(int producer) {}
  virtual void Stop() = 0;
};

/** sg: one thread, write()/writev() + readv() on a pool of fds (16 commands each). */
std::unique_ptr<RingConsumer> MakeSgConsumer(std::shared_ptr<RingCore> core);
/** bsg, and sg with sg_threads: queue_depth threads, blocking SG_IO, every signal blocked. */
std::unique_ptr<RingConsumer> MakeThreadsConsumer(std::shared_ptr<RingCore> core);

/** Monotonic clock in nanoseconds. */
uint64_t NowNs();

}  // namespace sgv4
