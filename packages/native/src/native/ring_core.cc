#include "ring_core.h"

#include <sys/mman.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace sgv4 {

namespace {

std::mutex registry_mutex;
std::map<uint32_t, std::weak_ptr<RingCore>>& Registry() {
  static auto* registry = new std::map<uint32_t, std::weak_ptr<RingCore>>();  // never destroyed
  return *registry;
}
uint32_t next_id = 1;

inline int32_t LoadAcquire(const int32_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
inline void StoreRelease(int32_t* p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

// Loads of a submission entry's fields: each field once, as one relaxed atomic load (the
// kernel's READ_ONCE), so the compiler can neither re-read a field JavaScript may be writing
// nor tear it. Every offset is aligned to the field's size (ring_layout.h); the u64 fields
// (user data, tag) are only 4-aligned, so they are read as two u32 words, low first, as
// JavaScript writes them.
inline uint8_t LoadU8(const uint8_t* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
inline uint16_t LoadU16(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_RELAXED);
}
inline uint32_t LoadU32(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint32_t*>(p), __ATOMIC_RELAXED);
}
inline uint64_t LoadU64(const uint8_t* p) { return LoadU32(p) | (uint64_t{LoadU32(p + 4)} << 32); }

inline void WriteU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

RingCore::RingCore(const RingConfig& config, BlockRef control, BlockRef buffers)
    : config_(config), control_(std::move(control)), buffers_(std::move(buffers)), mask_(config.entries - 1) {
  producers_.resize(config.producers);
  std::lock_guard<std::mutex> lock(registry_mutex);
  id_ = next_id++;
}

RingCore::~RingCore() {
  for (SharedMapping* region : mmap_regions_) region->Release();
  std::lock_guard<std::mutex> lock(registry_mutex);
  Registry().erase(id_);
}

void SharedMapping::Release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

SharedMapping::~SharedMapping() { munmap(address_, length_); }

std::shared_ptr<RingCore> RingCore::Create(const RingConfig& config, int* err, const char** syscall) {
  *syscall = "mmap";
  MemoryBlock* control = MemoryBlock::Map(ring::ControlBytes(config.entries, config.producers), err);
  if (control == nullptr) return nullptr;
  BlockRef control_ref(control);
  // At least one page even with no registered buffers, so every view has a real address.
  MemoryBlock* buffers =
      MemoryBlock::Map(static_cast<size_t>(config.buffer_count) * config.buffer_size + (config.buffer_count ? 0 : 1), err);
  if (buffers == nullptr) return nullptr;
  BlockRef buffers_ref(buffers);

  uint8_t* c = control->data();  // fresh anonymous memory: all zero
  WriteU32(c + ring::kOffMagic, ring::kMagic);
  WriteU32(c + ring::kOffVersion, ring::kVersion);
  WriteU32(c + ring::kOffEntries, config.entries);
  WriteU32(c + ring::kOffProducers, config.producers);
  WriteU32(c + ring::kOffQueueDepth, config.queue_depth);
  WriteU32(c + ring::kOffBufferCount, config.buffer_count);
  WriteU32(c + ring::kOffBufferSize, config.buffer_size);
  WriteU32(c + ring::kOffKind, static_cast<uint32_t>(config.kind));
  WriteU32(c + ring::kOffMmapSlots, config.mmap_slots);
  WriteU32(c + ring::kOffSgThreads, config.sg_threads ? 1 : 0);
  WriteU32(c + ring::kOffCredits, config.entries);
  for (uint32_t s = 0; s < config.entries; s++) {
    // "consumed" of generation s - entries: the slot is free for position s.
    WriteU32(c + ring::kOffSq + s * ring::kSqeSize + ring::kSqeState, s - config.entries + 2);
  }
  std::shared_ptr<RingCore> core(new RingCore(config, std::move(control_ref), std::move(buffers_ref)));
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    Registry()[core->id_] = core;
  }
  core->consumer_ = config.kind == 1 && !config.sg_threads ? MakeSgConsumer(core) : MakeThreadsConsumer(core);
  *err = core->consumer_->Start(syscall);
  if (*err != 0) {
    core->consumer_.reset();
    return nullptr;
  }
  return core;
}

std::shared_ptr<RingCore> RingCore::Find(uint32_t id) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(id);
  return it == Registry().end() ? nullptr : it->second.lock();
}

void RingCore::Count(ring::Stat stat, uint64_t n) const {
  auto* counter = reinterpret_cast<uint64_t*>(control_.data() + ring::kOffStats) + stat;
  __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

int RingCore::Attach(uv_async_t* async) {
  std::lock_guard<std::mutex> lock(mutex_);
  // The free record is chosen from the addon's own table, never from the shared state word:
  // JavaScript can write that word, and a record handed out twice would make two threads
  // share one completion queue.
  for (size_t i = 0; i < producers_.size(); i++) {
    ProducerLink& link = producers_[i];
    if (link.state != ProducerLink::State::kFree) continue;
    link.state = ProducerLink::State::kAttached;
    link.async = async;
    link.cq_tail = 0;
    const size_t record = ring::kOffProducerTable + i * ring::kProducerRecord;
    // The shared words start from the addon's values, whatever was written there before.
    StoreRelease(Word(record + ring::kProdCqTail), 0);
    StoreRelease(Word(record + ring::kProdCqHead), 0);
    StoreRelease(Word(record + ring::kProdState), 1);
    return static_cast<int>(i);
  }
  return -1;
}

void RingCore::Detach(int producer) {
  if (producer < 0 || static_cast<size_t>(producer) >= producers_.size()) return;
  if (consumer_) consumer_->ProducerGone(producer);
  uint32_t unreaped = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ProducerLink& link = producers_[producer];
    if (link.state != ProducerLink::State::kAttached) return;  // its credits came back already
    link.state = ProducerLink::State::kGone;
    link.async = nullptr;
    const size_t record = ring::kOffProducerTable + static_cast<size_t>(producer) * ring::kProducerRecord;
    StoreRelease(Word(record + ring::kProdState), 2);
    // Completions posted but never reaped: their credits would be lost with the thread. The
    // tail is the addon's count; only the head is JavaScript's. A head that no honest reaper
    // can have written (past the tail, or more than a whole queue behind it: Post never lets
    // the CQ hold more than `entries`) proves nothing, so it returns no credit.
    const uint32_t head = static_cast<uint32_t>(LoadAcquire(Word(record + ring::kProdCqHead)));
    unreaped = link.cq_tail - head;
    if (unreaped > config_.entries) unreaped = 0;
    StoreRelease(Word(record + ring::kProdCqHead), static_cast<int32_t>(link.cq_tail));
  }
  if (unreaped > 0) ReturnCredits(static_cast<int32_t>(unreaped));
}

bool RingCore::SqReady() const {
  const int32_t state = LoadAcquire(Word(ring::kOffSq + (head_ & mask_) * ring::kSqeSize + ring::kSqeState));
  return static_cast<uint32_t>(state) == head_ || static_cast<uint32_t>(state) == head_ + 1;
}

uint32_t RingCore::SqBacklog() const {
  return static_cast<uint32_t>(__atomic_load_n(Word(ring::kOffSqTail), __ATOMIC_ACQUIRE)) - head_;
}

TakeResult RingCore::TakeNext(SqeCopy* out) {
  uint8_t* entry = control_.data() + ring::kOffSq + (head_ & mask_) * ring::kSqeSize;
  auto* state = reinterpret_cast<int32_t*>(entry + ring::kSqeState);
  int32_t expected = static_cast<int32_t>(head_);
  const int32_t consumed = static_cast<int32_t>(head_ + 2);
  // published -> consumed; an abort's compare-exchange (published -> cancelled) races with
  // this one and exactly one of them wins.
  if (!__atomic_compare_exchange_n(state, &expected, consumed, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    if (static_cast<uint32_t>(expected) != head_ + 1) return TakeResult::kEmpty;
    // Cancelled: only the user data and producer are needed to complete it.
    out->user_data = LoadU64(entry + ring::kSqeUserData);
    out->producer = LoadU8(entry + ring::kSqeProducer);
    out->tag = LoadU64(entry + ring::kSqeTag);
    out->pos = head_;
    StoreRelease(state, consumed);
    head_++;
    StoreRelease(Word(ring::kOffSqHead), static_cast<int32_t>(head_));
    Count(ring::kStatCancelled);
    return TakeResult::kCancelled;
  }
  // Copied once, each field with one relaxed atomic load; every later check and use reads
  // the copy, whatever JavaScript writes into the entry meanwhile.
  out->pos = head_;
  out->user_data = LoadU64(entry + ring::kSqeUserData);
  out->cdb_length = LoadU8(entry + ring::kSqeCdbLength);
  out->direction = LoadU8(entry + ring::kSqeDirection);
  out->attribute = LoadU8(entry + ring::kSqeAttribute);
  out->producer = LoadU8(entry + ring::kSqeProducer);
  out->buffer_index = LoadU32(entry + ring::kSqeBufferIndex);
  out->buffer_offset = LoadU32(entry + ring::kSqeBufferOffset);
  out->length = LoadU32(entry + ring::kSqeLength);
  out->timeout_ms = LoadU32(entry + ring::kSqeTimeout);
  out->tag = LoadU64(entry + ring::kSqeTag);
  out->max_sense = LoadU16(entry + ring::kSqeMaxSense);
  out->flags = LoadU16(entry + ring::kSqeFlags);
  for (size_t w = 0; w < ring::kMaxCdb; w += 4) {
    const uint32_t word = LoadU32(entry + ring::kSqeCdb + w);
    std::memcpy(out->cdb + w, &word, 4);
  }
  head_++;
  StoreRelease(Word(ring::kOffSqHead), static_cast<int32_t>(head_));
  return TakeResult::kTaken;
}

void RingCore::Post(const CqeCopy* cqes, size_t count, int quiet_producer, bool may_defer) {
  if (count == 0) return;
  int32_t orphaned = 0;
  uint64_t wake_mask = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < count; i++) {
      const CqeCopy& c = cqes[i];
      if (c.producer >= producers_.size() || producers_[c.producer].state != ProducerLink::State::kAttached) {
        orphaned++;  // its JS thread is gone (or never was): nobody will reap it
        continue;
      }
      ProducerLink& link = producers_[c.producer];
      const size_t record = ring::kOffProducerTable + c.producer * ring::kProducerRecord;
      int32_t* tail_word = Word(record + ring::kProdCqTail);
      const uint32_t tail = link.cq_tail;  // the addon's count, not the shared word JavaScript could change
      const uint32_t head = static_cast<uint32_t>(LoadAcquire(Word(record + ring::kProdCqHead)));
      if (tail - head >= config_.entries) {
        orphaned++;  // cannot happen while credits bound the requests in flight; never overwrite
        continue;
      }
      uint8_t* e = control_.data() + ring::CqOffset(config_.entries, c.producer) + (tail & mask_) * ring::kCqeSize;
      std::memcpy(e + ring::kCqeUserData, &c.user_data, 8);
      std::memcpy(e + ring::kCqeErrno, &c.error, 4);
      WriteU32(e + ring::kCqeDeviceStatus, c.device_status);
      WriteU32(e + ring::kCqeTransport, c.transport_status);
      WriteU32(e + ring::kCqeDriver, c.driver_status);
      std::memcpy(e + ring::kCqeDinResid, &c.din_resid, 4);
      std::memcpy(e + ring::kCqeDoutResid, &c.dout_resid, 4);
      WriteU32(e + ring::kCqeSenseLength, c.sense_length);
      WriteU32(e + ring::kCqeDurationUs, c.duration_us);
      WriteU32(e + ring::kCqeInfo, c.info);
      std::memcpy(e + ring::kCqeTag, &c.tag, 8);
      WriteU32(e + ring::kCqeFlags, c.flags);
      std::memcpy(e + ring::kCqeSense, c.sense, c.sense_length <= ring::kSenseBytes ? c.sense_length : 0);
      link.cq_tail = tail + 1;
      StoreRelease(tail_word, static_cast<int32_t>(tail + 1));
      wake_mask |= uint64_t{1} << c.producer;
    }
    posted_ += static_cast<uint32_t>(count);
    Count(ring::kStatCompleted, count);
    // Completion moderation (like interrupt coalescing): while the consumer has more entries to
    // run, JS is told once per completion_batch completions instead of once per command. Never
    // while closing (the last completions must reach JS) and never with a batch of 1.
    if (may_defer && config_.completion_batch > 1 &&
        __atomic_load_n(Word(ring::kOffClosing), __ATOMIC_SEQ_CST) == 0) {
      deferred_mask_ |= wake_mask;
      deferred_count_ += static_cast<uint32_t>(count);
      if (deferred_count_ < config_.completion_batch) {
        wake_mask = 0;
      }
    }
    if (wake_mask != 0 || !may_defer) {
      wake_mask |= deferred_mask_;
      deferred_mask_ = 0;
      deferred_count_ = 0;
    }
    Count(ring::kStatBatches);
    // One wake per JS thread per batch (uv_async_send also coalesces sends until the callback runs).
    for (size_t p = 0; p < producers_.size(); p++) {
      if (((wake_mask >> p) & 1) && static_cast<int>(p) != quiet_producer) {
        uv_async_send(producers_[p].async);
        Count(ring::kStatCompletionWakes);
      }
    }
  }
  if (orphaned > 0) ReturnCredits(orphaned);
}

void RingCore::ReturnCredits(int32_t n) {
  __atomic_fetch_add(Word(ring::kOffCredits), n, __ATOMIC_SEQ_CST);
  const bool closing = __atomic_load_n(Word(ring::kOffClosing), __ATOMIC_SEQ_CST) != 0;
  if (__atomic_load_n(Word(ring::kOffWaiters), __ATOMIC_SEQ_CST) > 0 || closing) WakeAll();
  if (closing && consumer_) consumer_->Wake(1);  // it may be waiting for the last credit to stop
}

void RingCore::WakeAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (ProducerLink& link : producers_) {
    if (link.async != nullptr) uv_async_send(link.async);
  }
}

uint32_t RingCore::Doorbell(uint32_t count, int producer, bool can_loop) {
  if (!consumer_) return 0;
  // Closing: the consumer may be waiting for the last credit to exit; wake it in any case.
  if (__atomic_load_n(Word(ring::kOffClosing), __ATOMIC_SEQ_CST) != 0) consumer_->Wake(count);
  if (config_.kind == 1 && !config_.sg_threads) return consumer_->Inline(producer, can_loop);
  consumer_->Wake(count);
  return 0;
}

uint32_t RingCore::LoopReap(int producer) { return consumer_ ? consumer_->LoopReap(producer) : 0; }

void RingCore::LoopGone(int producer) {
  if (consumer_) consumer_->ProducerGone(producer);
}

int RingCore::loop_fd() const { return consumer_ ? consumer_->LoopFd() : -1; }

void RingCore::Shutdown() {
  int32_t expected = 0;
  if (__atomic_compare_exchange_n(Word(ring::kOffClosing), &expected, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    __atomic_fetch_sub(Word(ring::kOffCredits), ring::kClosedCredits, __ATOMIC_SEQ_CST);
  }
  if (consumer_) consumer_->Stop();
}

bool RingCore::Drained() {
  if (__atomic_load_n(Word(ring::kOffClosing), __ATOMIC_SEQ_CST) == 0 ||
      __atomic_load_n(Word(ring::kOffCredits), __ATOMIC_SEQ_CST) !=
          static_cast<int32_t>(config_.entries) - ring::kClosedCredits) {
    return false;
  }
  // The credits word is JavaScript's: any thread can write it. It alone covers a producer
  // between taking its credit and claiming its position (nothing the addon can see), but the
  // rest is checked against what the addon knows, so a corrupted count cannot stop the
  // consumers while a request is in the SQ, a consumer or the kernel, nor before a posted
  // completion was reaped; at worst it keeps them running (the ring's own close waits).
  if (SqBacklog() != 0) return false;  // a claimed position not yet taken (maybe not yet published)
  std::lock_guard<std::mutex> lock(mutex_);
  if (posted_ != head_) return false;  // taken and not yet completed: held by a consumer or in the kernel
  for (size_t i = 0; i < producers_.size(); i++) {
    const ProducerLink& link = producers_[i];
    if (link.state != ProducerLink::State::kAttached) continue;  // gone: Detach returned its credits
    const size_t record = ring::kOffProducerTable + i * ring::kProducerRecord;
    if (static_cast<uint32_t>(LoadAcquire(Word(record + ring::kProdCqHead))) != link.cq_tail) return false;
  }
  return true;
}

void RingCore::OnConsumerStopped() {
  stopped_.store(true, std::memory_order_release);
  WakeAll();
}

}  // namespace sgv4
