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
  } else if (!unreachable && !state_->replaced) {
    // The pages may still be reached through that other ArrayBuffer, so the range must stay
    // mapped until its finalizer. But the sg vma holds a reference to the sg file (vm_file),
    // so until then close() would not release the fd (sg_release never runs, and an O_EXCL
    // open gets EBUSY). Mapping anonymous memory over the same range (MAP_FIXED replaces the
    // sg vma in one step, mm/mmap.c mmap_region) drops the file now and keeps the range valid:
    // whoever still holds it reads zeros instead of the reserve. The range stays ours, so the
    // finalizer's munmap cannot hit a mapping of someone else. If the kernel refuses (ENOMEM),
    // the sg vma simply stays until the finalizer, as before.
    void* anonymous = mmap(state_->address, state_->length, PROT_READ | PROT_WRITE,
                           MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (anonymous == state_->address) state_->replaced = true;
  }
  DropOwner(state_);
  state_ = nullptr;
}

ReservedMapping::~ReservedMapping() { Unmap(false); }

}  // namespace sgv4
