#include "reserved_mapping.h"

#include <sys/mman.h>

#include <cerrno>

namespace sgv4 {

namespace {

void DropOwner(ReservedMapping::State* state) {
  if (--state->owners > 0) return;
  if (!state->unmapped) munmap(state->address, state->length);
  delete state;
}

void FinalizeMapping(napi_env, void*, void* hint) { DropOwner(static_cast<ReservedMapping::State*>(hint)); }

}  // namespace

std::unique_ptr<ReservedMapping> ReservedMapping::Map(Napi::Env env, int fd, size_t length, int* err) {
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) {
    *err = errno;
    return nullptr;
  }
  auto* state = new State{address, length};
  napi_value value;
  if (napi_create_external_arraybuffer(env, address, length, FinalizeMapping, state, &value) != napi_ok) {
    munmap(address, length);
    delete state;
    throw Napi::Error::New(env);
  }
  std::unique_ptr<ReservedMapping> mapping(new ReservedMapping());
  mapping->state_ = state;
  mapping->buffer_ = Napi::Persistent(Napi::ArrayBuffer(env, value));
  return mapping;
}

void ReservedMapping::Unmap(bool detach) {
  if (state_ == nullptr) return;
  bool unreachable = !detach;
  if (detach && !buffer_.IsEmpty()) {
    // Only our own detach makes the pages unreachable from JS. A buffer found detached
    // already was transferred (code that bypassed markAsUntransferable): its memory may live
    // on in another ArrayBuffer, whose finalizer (FinalizeMapping) unmaps it when it goes.
    Napi::ArrayBuffer buffer = buffer_.Value();
    if (!buffer.IsDetached() && napi_detach_arraybuffer(buffer.Env(), buffer) == napi_ok) unreachable = true;
  }
  buffer_.Reset();
  if (unreachable && !state_->unmapped) {
    munmap(state_->address, state_->length);
    state_->unmapped = true;
  }
  DropOwner(state_);
  state_ = nullptr;
}

ReservedMapping::~ReservedMapping() { Unmap(false); }

}  // namespace sgv4
