// The sg reserved buffer mmap-ed into the process and handed to JS as an external,
// zero-copy ArrayBuffer. On unmap the ArrayBuffer is detached first, so no JS access
// can touch an unmapped page.
#pragma once

#include <napi.h>

#include <cstddef>
#include <memory>

namespace sgv4 {

class ReservedMapping {
 public:
  /**
   * mmap(NULL, length, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0). sg_mmap() in
   * drivers/scsi/sg.c: vm_pgoff must be 0 and length <= the reserve size (ENOMEM).
   * Returns nullptr and sets *err on failure.
   */
  static std::unique_ptr<ReservedMapping> Map(Napi::Env env, int fd, size_t length, int* err);
  ~ReservedMapping();

  Napi::ArrayBuffer buffer() const { return buffer_.Value(); }
  size_t length() const { return length_; }

  /** Detaches the ArrayBuffer (when JS may still run) and munmaps. Idempotent. */
  void Unmap(bool detach);

 private:
  ReservedMapping() = default;
  void* address_ = nullptr;
  size_t length_ = 0;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

}  // namespace sgv4
