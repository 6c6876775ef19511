#include "reserved_mapping.h"

#include <sys/mman.h>

#include <cerrno>

namespace sgv4 {

std::unique_ptr<ReservedMapping> ReservedMapping::Map(Napi::Env env, int fd, size_t length, int* err) {
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    *err = errno;
    return nullptr;
  }
  std::unique_ptr<ReservedMapping> mapping(new ReservedMapping());
  mapping->address_ = address;
  mapping->length_ = length;
  // The finalizer does nothing: the mapping's life is owned by the handle (close(),
  // unmapReservedBuffer() or environment teardown), never by the garbage collector.
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, address, length, [](Napi::Env, void*) {});
  mapping->buffer_ = Napi::Persistent(buffer);
  return mapping;
}

void ReservedMapping::Unmap(bool detach) {
  if (address_ == nullptr) return;
  if (!buffer_.IsEmpty()) {
    if (detach) {
      Napi::ArrayBuffer buffer = buffer_.Value();
      if (!buffer.IsDetached()) buffer.Detach();
    }
    buffer_.Reset();
  }
  munmap(address_, length_);
  address_ = nullptr;
}

ReservedMapping::~ReservedMapping() { Unmap(false); }

}  // namespace sgv4
