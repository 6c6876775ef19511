// One SCSI request taken from JS: the canonical encoded sg_io_v4 (from @sgv4/core)
// plus the JS buffers it refers to. Preparation validates every length against the
// real buffer sizes and fills the kernel pointers, so the kernel can never read or
// write outside a JS buffer; the buffers stay referenced (pinned) for the request's
// whole life.
#pragma once

#include <linux/bsg.h>
#include <napi.h>
#include <scsi/sg.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sgv4 {

/** What kind of node a handle refers to (from fstat; see DeviceHandle::Classify). */
enum class NodeKind { Sg, Bsg, Block, Other };

/** Which ioctl ABI a request is sent with. */
enum class Abi { V4, V3 };

/** The ioctl ABI for a node kind, as sg3_utils' sg_pt_linux picks it in 6.1 (no v4 sg driver upstream). */
inline Abi AbiFor(NodeKind kind) { return kind == NodeKind::Bsg ? Abi::V4 : Abi::V3; }

/** sg_io_v4 size in bytes (include/uapi/linux/bsg.h). */
constexpr size_t kSgIoV4Size = 160;

class PreparedRequest {
 public:
  /**
   * Validates and pins. Arguments (positional, from JS): header (Uint8Array, 160
   * bytes), cdb (Uint8Array), sense (Uint8Array | null), dataOut and dataIn (each
   * null, a Uint8Array, or an array of Uint8Array segments = an iovec). Throws a JS
   * TypeError / InvalidFieldError (RangeError) before any system call on bad input.
   */
  // `pin` = false for a synchronous call, where the JS arguments stay alive for the whole
  // ioctl anyway (saves creating and deleting the persistent references).
  static std::unique_ptr<PreparedRequest> FromJs(const Napi::CallbackInfo& info, size_t first_arg, NodeKind kind,
                                                 bool pin = true);

  Abi abi() const { return abi_; }
  sg_io_v4* v4() { return &v4_; }
  sg_io_hdr* v3() { return &v3_; }
  int32_t pack_id() const { return v3_.pack_id; }
  bool uses_mmap() const { return mmap_io_; }

  /** Copies the kernel's results into the output fields of the JS header (main thread only). */
  void WriteBack();
  /** For the sg async interface: copy a v3 reply read() from the kernel into this request. */
  void TakeV3Reply(const sg_io_hdr& reply);

 private:
  PreparedRequest() = default;

  Abi abi_ = Abi::V3;
  bool mmap_io_ = false;
  sg_io_v4 v4_{};
  sg_io_hdr v3_{};
  std::vector<sg_iovec> iovec_;
  uint8_t* js_header_ = nullptr;  // stable: typed array data is off-heap once its info is read
  std::vector<Napi::ObjectReference> pinned_;
};

}  // namespace sgv4
