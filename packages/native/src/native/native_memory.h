// Native memory the kernel may write into while JavaScript runs: allocateBuffer()
// blocks and bounce buffers. Both are anonymous mmap()s, reference counted, and unmapped
// only when the last owner (a JS ArrayBuffer, a request, a blocking thread) lets go.
//
// Why mmap and not malloc: with direct IO the kernel pins the user pages of a request
// (bio_map_user_iov -> pin_user_pages, block/blk-map.c) and DMAs into them until the
// command completes. If a worker environment is torn down while such a request is still
// in the kernel, its memory must not return to malloc and be reused. munmap() of a
// pinned page only drops the mapping: the page itself stays with the bio until
// blk_rq_unmap_user() unpins it, so unmapping is safe at any time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace sgv4 {

/** The page size (sysconf(_SC_PAGESIZE)), read once. */
size_t PageSize();

/** Rounds `bytes` up to a whole number of pages (at least one page). */
size_t RoundUpToPages(size_t bytes);

/** One anonymous, page-aligned mapping with an atomic reference count. */
class MemoryBlock {
 public:
  /** mmap(PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) of `bytes` rounded up to pages; one reference. */
  static MemoryBlock* Map(size_t bytes, int* err);

  uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }

  void Retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  /** Drops one reference; the last one unmaps. Any thread. */
  void Release();
  /** Whether the caller holds the only reference. */
  bool Unique() const { return refs_.load(std::memory_order_acquire) == 1; }

 private:
  MemoryBlock(uint8_t* data, size_t capacity) : data_(data), capacity_(capacity) {}
  ~MemoryBlock();

  uint8_t* data_;
  size_t capacity_;
  std::atomic<uint32_t> refs_{1};
};

/** An owning reference to a MemoryBlock (move-only). */
class BlockRef {
 public:
  BlockRef() = default;
  /** Adopts one reference already held. */
  explicit BlockRef(MemoryBlock* block) : block_(block) {}
  BlockRef(BlockRef&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }
  BlockRef& operator=(BlockRef&& other) noexcept;
  BlockRef(const BlockRef&) = delete;
  BlockRef& operator=(const BlockRef&) = delete;
  ~BlockRef() { reset(); }

  /** A new reference to `block` (retained). */
  static BlockRef Share(MemoryBlock* block);

  MemoryBlock* get() const { return block_; }
  explicit operator bool() const { return block_ != nullptr; }
  uint8_t* data() const { return block_->data(); }
  MemoryBlock* release() {
    MemoryBlock* b = block_;
    block_ = nullptr;
    return b;
  }
  void reset();

 private:
  MemoryBlock* block_ = nullptr;
};

/**
 * A cache of bounce blocks by size class (powers of two pages), so a 4 KiB request does
 * not mmap/munmap each time. One per Node environment, used on its JS thread only.
 */
class BouncePool {
 public:
  BouncePool() = default;
  BouncePool(const BouncePool&) = delete;
  BouncePool& operator=(const BouncePool&) = delete;
  ~BouncePool();

  /** A block of at least `bytes`; empty BlockRef with *err set when mmap fails. */
  BlockRef Take(size_t bytes, int* err);
  /** Returns a block: cached when the pool holds the only reference and has room, else released. */
  void Give(BlockRef block);

 private:
  static constexpr int kClasses = 12;                      // 1 page .. 2048 pages (8 MiB)
  static constexpr size_t kMaxCachedBytes = 64u << 20;     // per environment
  static constexpr size_t kMaxPerClass = 64;
  std::vector<MemoryBlock*> free_[kClasses];
  size_t cached_bytes_ = 0;
};

/**
 * allocateBuffer() blocks by address, so a view passed with a request can be recognised
 * as native memory (zero-copy) in O(log n). Process-wide and locked: the ArrayBuffer
 * finalizer that unregisters a block may run late in an environment's teardown.
 */
class AllocatedBuffers {
 public:
  static AllocatedBuffers& Instance();

  void Add(MemoryBlock* block, size_t length);
  void Remove(MemoryBlock* block);
  /** The block whose user range holds [p, p + length), retained; nullptr when none does. */
  MemoryBlock* FindRetained(const uint8_t* p, size_t length);

 private:
  struct Range {
    MemoryBlock* block;
    size_t length;
  };
  std::mutex mutex_;
  std::map<uintptr_t, Range> by_start_;
};

}  // namespace sgv4
