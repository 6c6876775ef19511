#include "native_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

namespace sgv4 {

size_t PageSize() {
  static const size_t page = [] {
    long value = sysconf(_SC_PAGESIZE);
    return value > 0 ? static_cast<size_t>(value) : static_cast<size_t>(4096);
  }();
  return page;
}

size_t RoundUpToPages(size_t bytes) {
  const size_t page = PageSize();
  if (bytes == 0) return page;
  return (bytes + page - 1) / page * page;
}

MemoryBlock* MemoryBlock::Map(size_t bytes, int* err) {
  const size_t capacity = RoundUpToPages(bytes);
  void* data = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) {
    *err = errno;
    return nullptr;
  }
  return new MemoryBlock(static_cast<uint8_t*>(data), capacity);
}

MemoryBlock::~MemoryBlock() { munmap(data_, capacity_); }

void MemoryBlock::Release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

BlockRef& BlockRef::operator=(BlockRef&& other) noexcept {
  if (this != &other) {
    reset();
    block_ = other.block_;
    other.block_ = nullptr;
  }
  return *this;
}

BlockRef BlockRef::Share(MemoryBlock* block) {
  block->Retain();
  return BlockRef(block);
}

void BlockRef::reset() {
  if (block_ != nullptr) {
    block_->Release();
    block_ = nullptr;
  }
}

namespace {

/** Size class of a capacity: class c holds blocks of (1 << c) pages; -1 when too big. */
int ClassOf(size_t capacity) {
  const size_t pages = capacity / PageSize();
  for (int c = 0; c < 12; c++) {
    if (pages <= (static_cast<size_t>(1) << c)) return c;
  }
  return -1;
}

}  // namespace

BouncePool::~BouncePool() {
  for (auto& list : free_) {
    for (MemoryBlock* block : list) block->Release();
    list.clear();
  }
}

BlockRef BouncePool::Take(size_t bytes, int* err) {
  const int c = ClassOf(RoundUpToPages(bytes));
  if (c >= 0 && !free_[c].empty()) {
    MemoryBlock* block = free_[c].back();
    free_[c].pop_back();
    cached_bytes_ -= block->capacity();
    return BlockRef(block);
  }
  // A class size, so the block can be cached and reused for any request of that class.
  const size_t size = c >= 0 ? (static_cast<size_t>(1) << c) * PageSize() : bytes;
  return BlockRef(MemoryBlock::Map(size, err));
}

void BouncePool::Give(BlockRef block) {
  if (!block) return;
  const int c = ClassOf(block.get()->capacity());
  if (c < 0 || !block.get()->Unique() || free_[c].size() >= kMaxPerClass ||
      cached_bytes_ + block.get()->capacity() > kMaxCachedBytes) {
    return;  // the BlockRef releases it
  }
  cached_bytes_ += block.get()->capacity();
  free_[c].push_back(block.release());
}

AllocatedBuffers& AllocatedBuffers::Instance() {
  // Never destroyed: finalizers may run during process exit, after static destructors.
  static AllocatedBuffers* instance = new AllocatedBuffers();
  return *instance;
}

void AllocatedBuffers::Add(MemoryBlock* block, size_t length) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_start_[reinterpret_cast<uintptr_t>(block->data())] = Range{block, length};
}

void AllocatedBuffers::Remove(MemoryBlock* block) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_start_.erase(reinterpret_cast<uintptr_t>(block->data()));
}

MemoryBlock* AllocatedBuffers::FindRetained(const uint8_t* p, size_t length) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(mutex_);
  if (by_start_.empty()) return nullptr;
  auto it = by_start_.upper_bound(start);
  if (it == by_start_.begin()) return nullptr;
  --it;
  const uintptr_t base = it->first;
  if (start - base > it->second.length || length > it->second.length - (start - base)) return nullptr;
  it->second.block->Retain();
  return it->second.block;
}

}  // namespace sgv4
