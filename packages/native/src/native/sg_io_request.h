// One SCSI request taken from JS: the canonical encoded sg_io_v4 (from @sgv4/core) plus
// the JS buffers it refers to. Preparation validates every length against the real
// buffer sizes, then decides for each buffer where the kernel reads and writes:
//
// - header, CDB and sense: always native storage (KernelPart). The header's output
//   fields and the sense bytes are copied to the JS views at completion, on the JS thread.
// - data: allocateBuffer() memory as is (retained); SharedArrayBuffer memory as is
//   (pinned) on the sg queue with indirect IO; anything else, and every buffer that a
//   thread or a DMA may touch while JS runs, through a native bounce buffer (copy-out at
//   submission, copy-in at completion only when the JS view is still attached with the
//   same length). Synchronous calls use the JS memory directly: no JS runs until they
//   return.
//
// The kernel therefore never holds a pointer into memory that JS can detach or free.
#pragma once

#include <js_native_api.h>
#include <linux/bsg.h>
#include <scsi/sg.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "native_memory.h"

namespace sgv4 {

class DeviceHandle;
class NativeCommand;

/** What kind of node a handle refers to (from fstat; see DeviceHandle). */
enum class NodeKind { Sg, Bsg, Block, Other };

/** Which ioctl ABI a request is sent with. */
enum class Abi { V4, V3 };

/** The ioctl ABI for a node kind, as sg3_utils' sg_pt_linux picks it in 6.1 (no v4 sg driver upstream). */
inline Abi AbiFor(NodeKind kind) { return kind == NodeKind::Bsg ? Abi::V4 : Abi::V3; }

/** How a request reaches the kernel; decides which memory may be used in place. */
enum class Mode {
  Sync,    // on the calling (JS) thread, returns when the kernel is done
  Queue,   // sg write() now, read() later on the JS thread
  Thread,  // SG_IO on a pool thread while JS runs
};

/** sg_io_v4 size in bytes (include/uapi/linux/bsg.h). */
constexpr size_t kSgIoV4Size = 160;
/** Longest CDB sg accepts at submission (SG_MAX_CDB_SIZE, drivers/scsi/sg.c). */
constexpr size_t kMaxCdb = 252;
/** Native sense storage kept inline; longer max_response_len gets heap storage. */
constexpr size_t kInlineSense = 256;

/**
 * A data argument's JS values, each read once: nothing, one view, or the elements of an
 * iovec array. Reading an array's elements runs its accessors, i.e. arbitrary JavaScript,
 * which could detach or free a buffer whose pointer was already taken: so every value of a
 * request (of every request of a batch) is collected before any pointer into a JS buffer
 * is taken, and the views are examined only afterwards, where no JavaScript runs.
 */
struct DataValues {
  bool present = false;
  bool is_iovec = false;
  size_t count = 0;
  napi_value first = nullptr;      // a flat buffer (the common case) needs no allocation
  std::vector<napi_value> rest;    // iovec elements after the first

  napi_value at(size_t i) const { return i == 0 ? first : rest[i - 1]; }
  /** May run JavaScript (array element accessors). */
  static DataValues Collect(napi_env env, napi_value value);
};

/** The five arguments of a request (header, cdb, sense, dataOut, dataIn), collected (see DataValues). */
struct RequestValues {
  napi_value header = nullptr;
  napi_value cdb = nullptr;
  napi_value sense = nullptr;
  DataValues data_out;
  DataValues data_in;
  /** May run JavaScript (array element accessors): call before any request of a batch is prepared. */
  static RequestValues Collect(napi_env env, const napi_value* args);
};

/**
 * Everything the kernel (or a pool thread) touches for one request: native memory only,
 * no napi handles, so a pool thread can free it after its environment is gone.
 */
struct KernelPart {
  Abi abi = Abi::V3;
  sg_io_v4 v4{};   // bsg: the SG_IO argument; otherwise the canonical input/output copy
  sg_io_hdr v3{};  // sg and block: the write()/SG_IO argument
  uint8_t cdb[kMaxCdb]{};
  uint8_t sense_inline[kInlineSense]{};
  std::unique_ptr<uint8_t[]> sense_heap;
  std::vector<sg_iovec> iovec;
  BlockRef bounce;                 // one bounce block for every bounced segment
  std::vector<BlockRef> retained;  // allocateBuffer() blocks in use

  uint8_t* sense() { return sense_heap ? sense_heap.get() : sense_inline; }
  void* ioctl_arg() { return abi == Abi::V4 ? static_cast<void*>(&v4) : static_cast<void*>(&v3); }
};

/**
 * A JS view a request must reach again at completion. A one-off asynchronous request
 * first holds the bare napi_value (valid until the submitting call returns); only if it is
 * still in flight when that call returns does it become a reference (Persist). A command
 * completed inside write() therefore never creates or deletes a reference.
 */
struct ViewHandle {
  napi_ref ref = nullptr;
  napi_value transient = nullptr;

  bool empty() const { return ref == nullptr && transient == nullptr; }
  napi_value Get(napi_env env) const;
  void Persist(napi_env env);
  void Release(napi_env env);
};

/** Where one JS data segment lives while the kernel uses it. */
enum class Memory : uint8_t {
  JsDirect,  // the JS view's own bytes (synchronous calls without direct IO)
  Shared,    // SharedArrayBuffer bytes, pinned by a reference to the view
  Native,    // allocateBuffer() block, retained
  Bounced,   // a slice of KernelPart::bounce
};

/** One data segment of a request (a flat buffer is one segment). */
struct Segment {
  ViewHandle view;  // the JS view (pin, copy-in/out), when the request outlives the call
  uint8_t* kernel = nullptr;
  size_t length = 0;  // view length at preparation
  size_t bounce_offset = 0;
  Memory memory = Memory::JsDirect;
};

/** Lifecycle of a request on its handle. */
enum class RequestState : uint8_t { Idle, Waiting, InKernel, Done };

class Request {
 public:
  /**
   * Validates and places. `args` = header (Uint8Array, 160 bytes), cdb (Uint8Array),
   * sense (Uint8Array | null), dataOut and dataIn (each null, a Uint8Array, or an array
   * of Uint8Array segments = an iovec; each array element is read exactly once). Throws
   * a JS TypeError / InvalidFieldError (RangeError) before any system call on bad input.
   * `prepared`: keep references so the request can run again (PreparedCommand).
   */
  static std::unique_ptr<Request> FromJs(napi_env env, const napi_value* args, NodeKind kind, Mode mode,
                                         const std::shared_ptr<BouncePool>& pool, bool prepared);
  /** An empty request, for Prepare(). */
  static std::unique_ptr<Request> Create();
  /**
   * FromJs into an empty (new or Clear()-ed) request, from values already collected: runs no
   * JavaScript, so no pointer it takes can be invalidated before the request is submitted.
   * On a throw the request must be Clear()-ed.
   */
  void Prepare(napi_env env, const RequestValues& values, NodeKind kind, Mode mode,
               const std::shared_ptr<BouncePool>& pool, bool prepared);
  /** Back to empty, for reuse: references deleted, the bounce block back in its pool, state reset. */
  void Clear();
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  /**
   * Before each submission of a prepared request: re-reads the CDB bytes from the cdb
   * view and the data-out bytes that are copied (bounced) or used in place. Throws
   * InvalidFieldError when a view was detached or resized since preparation.
   */
  void Refresh(napi_env env);

  /** The request stays in flight after the submitting call: turn held views into references. */
  void Persist(napi_env env);

  /** sg queue: the v3 reply read() from the kernel. */
  void TakeV3Reply(const sg_io_hdr& reply);

  /**
   * Copies the results to JS (header output fields, sense, bounced data-in). Returns
   * nullptr, or the error to reject with when a view was detached or resized (nothing is
   * written through a stale view).
   */
  napi_value Deliver(napi_env env);

  Mode mode() const { return mode_; }
  bool prepared() const { return prepared_; }
  Abi abi() const { return kernel->abi; }
  /** Bytes copied through the bounce buffer by the last submission + delivery. */
  uint64_t bounced_bytes() const { return bounced_bytes_; }

  std::unique_ptr<KernelPart> kernel;

  // Scheduling state, owned by the handle.
  DeviceHandle* handle = nullptr;    // the handle that runs it
  NativeCommand* command = nullptr;  // the prepared command that owns it, if any
  RequestState state = RequestState::Idle;
  napi_deferred deferred = nullptr;  // pending promise (async modes)
  int slot = -1;                     // sg queue slot (= pack_id) while in the kernel
  bool abandoned = false;            // rejected early; the kernel still holds it
  bool release_when_done = false;    // prepared command released while in flight
  double abort_id = 0;               // non-zero: registered for AbortSignal
  void* job = nullptr;               // BlockingJob while on a pool thread
  int completion_error = 0;          // errno from the kernel (write/read/SG_IO), 0 when fine
  const char* completion_syscall = nullptr;

 private:
  Request() = default;
  void PlaceData(napi_env env, napi_value value, const char* name, bool to_device, bool dio);
  size_t BounceBytesNeeded() const;

  napi_env env_ = nullptr;
  std::shared_ptr<BouncePool> pool_;
  Mode mode_ = Mode::Sync;
  bool prepared_ = false;
  bool mmap_io_ = false;
  ViewHandle header_view_;
  ViewHandle cdb_view_;
  ViewHandle sense_view_;
  uint8_t* sync_header_ = nullptr;  // Mode::Sync, unprepared: the JS header bytes (valid during the call)
  uint8_t* native_header_ = nullptr;  // the header view is allocateBuffer() memory (retained): no JS call needed
  uint8_t* native_cdb_ = nullptr;     // likewise for a prepared request's CDB
  uint8_t* sync_sense_ = nullptr;
  size_t sense_view_length_ = 0;
  std::vector<Segment> out_;
  std::vector<Segment> in_;
  uint64_t bounced_bytes_ = 0;
};

}  // namespace sgv4
