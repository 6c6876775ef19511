// The sg reserved buffer mmap-ed into the process and handed to JS as an external,
// zero-copy ArrayBuffer (marked untransferable by the TypeScript layer, so Node 21+
// refuses to transfer it and Node 20 copies it instead: the pages are never shared with
// another thread). On unmap the ArrayBuffer is detached first, so no JS access can touch
// an unmapped page; if it cannot be detached, munmap waits for the ArrayBuffer's
// finalizer (the last JS reference), and meanwhile anonymous memory replaces the sg
// mapping in the same range, so the sg file is not kept open by it.
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

  /**
   * Ends the handle's use of the mapping. `detach`: JS may still run, so detach the
   * ArrayBuffer and munmap at once (or, when it cannot be detached, leave the munmap to
   * its finalizer). Without `detach` (environment teardown) JS can no longer run: munmap
   * now. Idempotent.
   */
  void Unmap(bool detach);

  /** Shared by the handle and the ArrayBuffer's finalizer; the pages go when both let go. */
  struct State {
    void* address;
    size_t length;
    bool unmapped = false;
    bool replaced = false;  // the sg vma was replaced by anonymous memory (the sg file released)
    int owners = 2;
  };

 private:
  ReservedMapping() = default;
  State* state_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

}  // namespace sgv4
