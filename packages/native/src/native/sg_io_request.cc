#include "sg_io_request.h"

#include <climits>
#include <cstring>

#include "js_errors.h"

#ifndef SG_FLAG_MMAP_IO
#define SG_FLAG_MMAP_IO 4  // include/scsi/sg.h (kernel header; glibc's copy lacks it)
#endif

namespace sgv4 {

static_assert(sizeof(sg_io_v4) == kSgIoV4Size, "struct sg_io_v4 must be 160 bytes");
static_assert(sizeof(sg_io_hdr) == 88, "struct sg_io_hdr must be 88 bytes on x86-64");

namespace {

bool IsNullish(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return true;
  return type == napi_null || type == napi_undefined;
}

/** The bytes of a Uint8Array (Buffer included); false when `value` is something else. */
bool Uint8View(napi_env env, napi_value value, uint8_t** data, size_t* length, napi_value* buffer = nullptr) {
  // One call: napi_get_typedarray_info answers napi_invalid_arg (no exception) for anything
  // that is not a typed array.
  napi_typedarray_type type;
  void* bytes = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &bytes, buffer, nullptr) != napi_ok) return false;
  *data = static_cast<uint8_t*>(bytes);
  return type == napi_uint8_array;
}

/** The current bytes of a held view; false when it is gone or no longer `length` long. */
bool LiveView(napi_env env, const ViewHandle& view, size_t length, uint8_t** data) {
  napi_value value = view.Get(env);
  if (value == nullptr) return false;
  size_t now = 0;
  if (!Uint8View(env, value, data, &now)) return false;
  return now == length && (*data != nullptr || length == 0);
}

napi_ref Reference(napi_env env, napi_value value) {
  napi_ref ref;
  ThrowIfFailed(env, napi_create_reference(env, value, 1, &ref));
  return ref;
}

/** A view held as a reference now (`transient` false) or as the bare value until Persist(). */
ViewHandle Hold(napi_env env, napi_value value, bool transient) {
  ViewHandle view;
  if (transient) {
    view.transient = value;
  } else {
    view.ref = Reference(env, value);
  }
  return view;
}

/** One JS view of a data argument, as read (once). */
struct ScannedView {
  napi_value value = nullptr;
  napi_value buffer = nullptr;  // its ArrayBuffer or SharedArrayBuffer (asynchronous modes only)
  uint8_t* bytes = nullptr;
  size_t length = 0;
};

/** A data argument as passed: nothing, one view, or the views of an iovec array (each element read once). */
struct ScannedData {
  bool present = false;
  bool is_iovec = false;
  uint64_t total = 0;
  size_t count = 0;
  ScannedView first;               // a flat buffer (the common case) needs no allocation
  std::vector<ScannedView> rest;   // iovec elements after the first

  ScannedView& at(size_t i) { return i == 0 ? first : rest[i - 1]; }
};

}  // namespace

DataValues DataValues::Collect(napi_env env, napi_value value) {
  DataValues data;
  if (IsNullish(env, value)) return data;
  data.present = true;
  bool is_array = false;
  ThrowIfFailed(env, napi_is_array(env, value, &is_array));
  if (!is_array) {
    data.first = value;
    data.count = 1;
    return data;
  }
  data.is_iovec = true;
  uint32_t count = 0;
  ThrowIfFailed(env, napi_get_array_length(env, value, &count));
  if (count > 1) data.rest.reserve(count - 1);
  for (uint32_t i = 0; i < count; i++) {
    // Each element is read exactly once: the value validated is the value pinned and
    // used, even when a getter would answer differently the next time.
    napi_value element;
    ThrowIfFailed(env, napi_get_element(env, value, i, &element));
    if (i == 0) {
      data.first = element;
    } else {
      data.rest.push_back(element);
    }
  }
  data.count = count;
  return data;
}

RequestValues RequestValues::Collect(napi_env env, const napi_value* args) {
  RequestValues values;
  values.header = args[0];
  values.cdb = args[1];
  values.sense = args[2];
  values.data_out = DataValues::Collect(env, args[3]);
  values.data_in = DataValues::Collect(env, args[4]);
  return values;
}

namespace {

/** The views of collected data values: no JavaScript runs here (typed-array info only). */
ScannedData ScanData(napi_env env, const DataValues& values, const char* name, bool want_buffer) {
  ScannedData data;
  if (!values.present) return data;
  data.present = true;
  data.is_iovec = values.is_iovec;
  if (values.count > 1) data.rest.reserve(values.count - 1);
  for (size_t i = 0; i < values.count; i++) {
    ScannedView view;
    view.value = values.at(i);
    if (!Uint8View(env, view.value, &view.bytes, &view.length, want_buffer ? &view.buffer : nullptr)) {
      throw WrongType(Napi::Env(env), values.is_iovec ? std::string(name) + "[" + std::to_string(i) + "]" : std::string(name),
                      "a Uint8Array");
    }
    data.total += view.length;
    if (i == 0) {
      data.first = view;
    } else {
      data.rest.push_back(view);
    }
    data.count++;
  }
  return data;
}

/**
 * Checks one direction's buffer: xfer_len must fit in the buffer, and the iovec count
 * in the header must match the segments passed (each segment is a whole JS view, so
 * every iovec entry lies inside its buffer by construction).
 */
void CheckDirection(Napi::Env env, const ScannedData& data, const char* prefix, uint32_t xfer_len,
                    uint32_t iovec_count, bool mmap_io) {
  std::string p(prefix);
  if (mmap_io) {
    if (data.present) {
      throw InvalidField(env, p + "_xferp", "must be null with SG_FLAG_MMAP_IO: the data moves through the mmap-ed reserved buffer", 1);
    }
    if (iovec_count != 0) throw InvalidField(env, p + "_iovec_count", "must be 0 with SG_FLAG_MMAP_IO", iovec_count);
    return;
  }
  if (!data.present) {
    if (xfer_len != 0) throw InvalidField(env, p + "_xfer_len", "must be 0 when no " + p + " buffer is passed", xfer_len);
    if (iovec_count != 0) {
      throw InvalidField(env, p + "_iovec_count", "must be 0 when no " + p + " buffer is passed", iovec_count);
    }
    return;
  }
  if (data.is_iovec) {
    if (iovec_count != data.count) {
      throw InvalidField(env, p + "_iovec_count",
                         "must equal the number of segments passed (" + std::to_string(data.count) + ")",
                         iovec_count);
    }
  } else if (iovec_count != 0) {
    throw InvalidField(env, p + "_iovec_count", "must be 0 for a flat (single Uint8Array) buffer", iovec_count);
  }
  if (xfer_len > data.total) {
    throw InvalidField(env, p + "_xfer_len",
                       "must not exceed the " + p + " buffer size (" + std::to_string(data.total) + " bytes)", xfer_len);
  }
}

/** Offset of a bounced segment: keeps the JS address's offset within its page, so the
 *  kernel's alignment decisions (blk_rq_aligned, page counts) match the caller's memory. */
size_t AlignedOffset(size_t cursor, const uint8_t* js_address) {
  const size_t page = PageSize();
  const size_t in_page = reinterpret_cast<uintptr_t>(js_address) % page;
  size_t base = (cursor + page - 1) / page * page;
  return base + in_page;
}

}  // namespace

napi_value ViewHandle::Get(napi_env env) const {
  if (transient != nullptr) return transient;
  napi_value value = nullptr;
  if (ref == nullptr || napi_get_reference_value(env, ref, &value) != napi_ok) return nullptr;
  return value;
}

void ViewHandle::Persist(napi_env env) {
  if (transient == nullptr) return;
  ref = Reference(env, transient);
  transient = nullptr;
}

void ViewHandle::Release(napi_env env) {
  if (ref != nullptr && env != nullptr) napi_delete_reference(env, ref);
  ref = nullptr;
  transient = nullptr;
}

Request::~Request() { Clear(); }

void Request::Persist(napi_env env) {
  header_view_.Persist(env);
  cdb_view_.Persist(env);
  sense_view_.Persist(env);
  for (auto* list : {&out_, &in_}) {
    for (Segment& s : *list) s.view.Persist(env);
  }
}

std::unique_ptr<Request> Request::Create() {
  std::unique_ptr<Request> req(new Request());
  req->kernel = std::make_unique<KernelPart>();
  return req;
}

void Request::Clear() {
  header_view_.Release(env_);
  cdb_view_.Release(env_);
  sense_view_.Release(env_);
  for (auto* list : {&out_, &in_}) {
    for (Segment& s : *list) s.view.Release(env_);
  }
  out_.clear();
  in_.clear();
  if (kernel) {
    if (kernel->bounce && pool_) pool_->Give(std::move(kernel->bounce));
    kernel->bounce.reset();
    kernel->retained.clear();
    kernel->iovec.clear();
    kernel->sense_heap.reset();
    kernel->v4 = sg_io_v4{};
    kernel->v3 = sg_io_hdr{};
  }
  pool_.reset();
  sync_header_ = nullptr;
  native_header_ = nullptr;
  native_cdb_ = nullptr;
  sync_sense_ = nullptr;
  sense_view_length_ = 0;
  bounced_bytes_ = 0;
  mmap_io_ = false;
  prepared_ = false;
  state = RequestState::Idle;
  deferred = nullptr;
  slot = -1;
  abandoned = false;
  release_when_done = false;
  abort_id = 0;
  job = nullptr;
  completion_error = 0;
  completion_syscall = nullptr;
}

std::unique_ptr<Request> Request::FromJs(napi_env env, const napi_value* args, NodeKind kind, Mode mode,
                                         const std::shared_ptr<BouncePool>& pool, bool prepared) {
  std::unique_ptr<Request> req = Create();
  req->Prepare(env, RequestValues::Collect(env, args), kind, mode, pool, prepared);
  return req;
}

void Request::Prepare(napi_env env, const RequestValues& values, NodeKind kind, Mode mode,
                      const std::shared_ptr<BouncePool>& pool, bool prepared) {
  Napi::Env e(env);
  Request* req = this;
  req->env_ = env;
  req->mode_ = mode;
  req->prepared_ = prepared;
  if (!req->kernel) req->kernel = std::make_unique<KernelPart>();
  KernelPart& k = *req->kernel;
  k.abi = AbiFor(kind);
  // Views referenced beyond this call: everything but an unprepared synchronous call. A
  // one-off asynchronous request holds them as bare values until Persist() (if ever).
  const bool keep = mode != Mode::Sync || prepared;
  const bool transient = keep && !prepared;

  uint8_t* header = nullptr;
  size_t header_length = 0;
  if (!Uint8View(env, values.header, &header, &header_length)) throw WrongType(e, "header", "a Uint8Array");
  if (header_length != kSgIoV4Size) {
    throw InvalidField(e, "header", "must be exactly 160 bytes (an encoded sg_io_v4)", static_cast<double>(header_length));
  }
  std::memcpy(&k.v4, header, kSgIoV4Size);
  sg_io_v4& h = k.v4;

  uint8_t* cdb = nullptr;
  size_t cdb_length = 0;
  if (!Uint8View(env, values.cdb, &cdb, &cdb_length)) throw WrongType(e, "cdb", "a Uint8Array");

  uint8_t* sense = nullptr;
  size_t sense_length = 0;
  const bool has_sense = !IsNullish(env, values.sense);
  if (has_sense && !Uint8View(env, values.sense, &sense, &sense_length)) throw WrongType(e, "sense", "a Uint8Array");

  // DIO (SG_FLAG_DIRECT_IO on sg) pins the user pages and DMAs into them while the command
  // runs (sg_start_req -> blk_rq_map_user_io, drivers/scsi/sg.c), so it gets the same
  // treatment as a pool thread: only native memory is used in place, even by a synchronous
  // call (its request outlives the call when a failed queue abandons it in its slot).
  const bool dio = kind == NodeKind::Sg && (h.flags & SG_FLAG_DIRECT_IO) != 0;
  // The ArrayBuffer of each view, to tell SharedArrayBuffer from ArrayBuffer where memory
  // that is not native may be used in place or must be bounced.
  const bool want_buffer = mode != Mode::Sync || prepared || dio;
  ScannedData out = ScanData(env, values.data_out, "dataOut", want_buffer);
  ScannedData in = ScanData(env, values.data_in, "dataIn", want_buffer);

  if (h.guard != 'Q') throw InvalidField(e, "guard", "must be 'Q' (0x51)", h.guard);

  // CDB length: bsg (scsi_bsg_sg_io_fn) and block SG_IO refuse more than 32 bytes
  // (sizeof scsi_cmnd.cmnd); sg accepts 6..252 at submission (sg_write/sg_new_write,
  // MAX_COMMAND_SIZE checks in drivers/scsi/sg.c) and fails > 32 later in sg_start_req.
  const uint32_t max_cdb = kind == NodeKind::Sg ? kMaxCdb : 32;
  if (h.request_len < 6 || h.request_len > max_cdb) {
    throw InvalidField(e, "request_len", "must be 6.." + std::to_string(max_cdb) + " bytes for this node", h.request_len);
  }
  if (h.request_len > cdb_length) {
    throw InvalidField(e, "request_len", "must not exceed the cdb buffer size (" + std::to_string(cdb_length) + " bytes)",
                       h.request_len);
  }
  if (h.max_response_len > sense_length) {
    throw InvalidField(e, "max_response_len",
                       "must not exceed the sense buffer size (" + std::to_string(sense_length) + " bytes)",
                       h.max_response_len);
  }
  const bool mmap_io = (h.flags & SG_FLAG_MMAP_IO) != 0;
  if (mmap_io && kind != NodeKind::Sg) {
    throw InvalidField(e, "flags", "SG_FLAG_MMAP_IO needs an sg node (it names the sg reserved buffer)", h.flags);
  }
  req->mmap_io_ = mmap_io;
  CheckDirection(e, out, "dout", h.dout_xfer_len, h.dout_iovec_count, mmap_io && h.dout_xfer_len > 0);
  CheckDirection(e, in, "din", h.din_xfer_len, h.din_iovec_count, mmap_io && h.din_xfer_len > 0);
  if (mmap_io && (out.present || in.present)) {
    throw InvalidField(e, "flags", "SG_FLAG_MMAP_IO requests pass no data buffer", h.flags);
  }
  if (k.abi == Abi::V4) {
    // bsg in 6.1 ignores dout/din_iovec_count and maps dxferp as one flat buffer
    // (drivers/scsi/scsi_bsg.c): an iovec array would be overwritten as data.
    if (out.is_iovec || in.is_iovec) {
      throw InvalidField(e, in.is_iovec ? "din_iovec_count" : "dout_iovec_count",
                         "bsg in Linux 6.1 ignores iovec counts (scsi_bsg_sg_io_fn): pass a flat buffer",
                         in.is_iovec ? h.din_iovec_count : h.dout_iovec_count);
    }
  } else {
    // Down-conversion to sg_io_hdr, following sg3_utils lib/sg_pt_linux.c (do_scsi_pt_v3).
    if (h.protocol != BSG_PROTOCOL_SCSI || h.subprotocol != BSG_SUB_PROTOCOL_SCSI_CMD) {
      throw InvalidField(e, h.protocol != 0 ? "protocol" : "subprotocol",
                         "sg_io_hdr (v3) only carries SCSI commands: must be 0",
                         h.protocol != 0 ? h.protocol : h.subprotocol);
    }
    if (h.dout_xfer_len > 0 && h.din_xfer_len > 0) {
      throw InvalidField(e, "dout_xfer_len",
                         "sg_io_hdr (v3) cannot carry data in both directions (bidi), as sg_pt_linux refuses",
                         h.dout_xfer_len);
    }
    if (h.max_response_len > UCHAR_MAX) {
      throw InvalidField(e, "max_response_len", "must be <= 255: sg_io_hdr.mx_sb_len is one byte", h.max_response_len);
    }
    const uint32_t iovec_count = h.dout_xfer_len > 0 ? h.dout_iovec_count : h.din_iovec_count;
    if (iovec_count > USHRT_MAX) {
      throw InvalidField(e, h.dout_xfer_len > 0 ? "dout_iovec_count" : "din_iovec_count",
                         "must be <= 65535: sg_io_hdr.iovec_count is 16 bits", iovec_count);
    }
  }

  // Every check passed: nothing below refuses the request (except a failed mmap).
  if (keep) {
    // allocateBuffer() memory cannot go away while retained: it is read and written
    // directly, without a JS call (the cheapest prepared command has a native header and CDB).
    if (MemoryBlock* block = AllocatedBuffers::Instance().FindRetained(header, kSgIoV4Size)) {
      k.retained.emplace_back(block);
      req->native_header_ = header;
    } else {
      req->header_view_ = Hold(env, values.header, transient);
    }
    if (has_sense) req->sense_view_ = Hold(env, values.sense, transient);
  } else {
    req->sync_header_ = header;
    req->sync_sense_ = sense;
  }
  if (prepared) {
    if (MemoryBlock* block = AllocatedBuffers::Instance().FindRetained(cdb, h.request_len)) {
      k.retained.emplace_back(block);
      req->native_cdb_ = cdb;
    } else {
      req->cdb_view_ = Hold(env, values.cdb, false);
    }
  }
  req->sense_view_length_ = sense_length;
  std::memcpy(k.cdb, cdb, h.request_len);
  if (h.max_response_len > kInlineSense) k.sense_heap.reset(new uint8_t[h.max_response_len]());

  // Data placement (DIO: see `dio` above).
  auto place = [&](ScannedData& data, std::vector<Segment>& segments, bool to_device) {
    segments.resize(data.count);
    for (size_t i = 0; i < data.count; i++) {
      ScannedView& view = data.at(i);
      Segment& s = segments[i];
      s.length = view.length;
      s.kernel = view.bytes;
      if (mode == Mode::Sync && !prepared && !dio) {
        // No JavaScript runs before the call returns (the sg queue holds other requests'
        // completions meanwhile: SgQueue::RunSync). Not with DIO: a synchronous call abandoned
        // by a failed queue would leave the device writing into the JS memory after the throw.
        s.memory = Memory::JsDirect;
        continue;
      }
      if (MemoryBlock* block = AllocatedBuffers::Instance().FindRetained(view.bytes, s.length)) {
        k.retained.emplace_back(block);
        s.memory = Memory::Native;
        continue;
      }
      bool is_plain = true;
      ThrowIfFailed(env, napi_is_arraybuffer(env, view.buffer, &is_plain));
      if (!is_plain && !dio && (mode == Mode::Sync || mode == Mode::Queue)) {
        // A SharedArrayBuffer cannot be detached; the reference keeps it alive. Not used
        // in place on a pool thread or with DIO: a worker's SAB is freed with its
        // environment, which does not wait for the kernel, and any SAB may be freed once
        // close() let go of a request a failed queue abandoned while the device still
        // writes into its pinned pages.
        s.memory = Memory::Shared;
        s.view = Hold(env, view.value, transient);
        continue;
      }
      // Plain memory of an asynchronous request is bounced in both directions. Data-out used
      // in place would be read by a write() that JavaScript may precede: a request waiting
      // for one of the fd's slots, the rest of a batch after a promise (promise hooks) or an
      // error (the error factories) was made, a queue that completes other requests first.
      s.memory = Memory::Bounced;
      if (!to_device || prepared) s.view = Hold(env, view.value, transient);
    }
  };
  place(out, req->out_, true);
  place(in, req->in_, false);

  const size_t bounce_bytes = req->BounceBytesNeeded();
  if (bounce_bytes > 0) {
    int err = 0;
    k.bounce = pool->Take(bounce_bytes, &err);
    req->pool_ = pool;
    if (!k.bounce) throw OsError(e, err, "mmap", "");
    size_t cursor = 0;
    for (auto* list : {&req->out_, &req->in_}) {
      for (Segment& s : *list) {
        if (s.memory != Memory::Bounced) continue;
        s.bounce_offset = AlignedOffset(cursor, s.kernel);
        cursor = s.bounce_offset + s.length;
        uint8_t* js = s.kernel;
        s.kernel = k.bounce.data() + s.bounce_offset;
        if (list == &req->out_ && !prepared) {
          std::memcpy(s.kernel, js, s.length);
          req->bounced_bytes_ += s.length;
        }
      }
    }
  }

  auto flat_or_iovec = [&](std::vector<Segment>& segments, bool is_iovec) -> void* {
    if (!is_iovec) return segments.empty() ? nullptr : segments[0].kernel;
    k.iovec.resize(segments.size());
    for (size_t i = 0; i < segments.size(); i++) k.iovec[i] = sg_iovec{segments[i].kernel, segments[i].length};
    return k.iovec.data();
  };

  if (k.abi == Abi::V4) {
    h.request = reinterpret_cast<uintptr_t>(k.cdb);
    h.response = reinterpret_cast<uintptr_t>(k.sense());
    h.dout_xferp = reinterpret_cast<uintptr_t>(flat_or_iovec(req->out_, false));
    h.din_xferp = reinterpret_cast<uintptr_t>(flat_or_iovec(req->in_, false));
    h.usr_ptr = 0;
  } else {
    const bool to_dev = h.dout_xfer_len > 0;
    sg_io_hdr& v3 = k.v3;
    v3.interface_id = 'S';
    v3.cmd_len = static_cast<unsigned char>(h.request_len);
    v3.cmdp = k.cdb;
    v3.mx_sb_len = static_cast<unsigned char>(h.max_response_len);
    v3.sbp = k.sense();
    v3.timeout = h.timeout;
    v3.flags = h.flags;  // SG_FLAG_* (DIRECT_IO, MMAP_IO, Q_AT_TAIL/HEAD) pass through unchanged
    v3.pack_id = static_cast<int>(h.request_extra);  // sg queue: replaced by the slot number
    if (h.dout_xfer_len == 0 && h.din_xfer_len == 0) {
      v3.dxfer_direction = SG_DXFER_NONE;
    } else {
      v3.dxfer_direction = to_dev ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV;
      v3.dxfer_len = to_dev ? h.dout_xfer_len : h.din_xfer_len;
      if (mmap_io) {
        v3.dxferp = nullptr;  // sg_read style: the data stays in the mmap-ed reserved buffer
      } else {
        const bool is_iovec = to_dev ? out.is_iovec : in.is_iovec;
        v3.dxferp = flat_or_iovec(to_dev ? req->out_ : req->in_, is_iovec);
        v3.iovec_count = is_iovec ? static_cast<unsigned short>(k.iovec.size()) : 0;
      }
    }
  }
}

size_t Request::BounceBytesNeeded() const {
  size_t cursor = 0;
  bool any = false;
  for (const auto* list : {&out_, &in_}) {
    for (const Segment& s : *list) {
      if (s.memory != Memory::Bounced) continue;
      any = true;
      cursor = AlignedOffset(cursor, s.kernel) + s.length;
    }
  }
  return any ? cursor : 0;
}

void Request::Refresh(napi_env env) {
  Napi::Env e(env);
  KernelPart& k = *kernel;
  if (native_cdb_ != nullptr) {
    std::memcpy(k.cdb, native_cdb_, k.v4.request_len);
  } else {
    uint8_t* cdb = nullptr;
    size_t cdb_length = 0;
    napi_value cdb_value = cdb_view_.Get(env);
    if (cdb_value == nullptr || !Uint8View(env, cdb_value, &cdb, &cdb_length) || cdb_length < k.v4.request_len) {
      throw InvalidField(e, "cdb", "was detached or shortened since prepare(): it must keep request_len bytes",
                         static_cast<double>(cdb_length));
    }
    std::memcpy(k.cdb, cdb, k.v4.request_len);
  }
  bounced_bytes_ = 0;
  for (size_t i = 0; i < out_.size(); i++) {
    Segment& s = out_[i];
    if (s.memory != Memory::Bounced) continue;  // native and shared memory is used in place
    uint8_t* js = nullptr;
    if (!LiveView(env, s.view, s.length, &js)) {
      throw InvalidField(e, out_.size() > 1 ? "dataOut[" + std::to_string(i) + "]" : "dataOut",
                         "was detached or resized since prepare()", static_cast<double>(s.length));
    }
    std::memcpy(s.kernel, js, s.length);
    bounced_bytes_ += s.length;
  }
}

void Request::TakeV3Reply(const sg_io_hdr& reply) {
  sg_io_hdr& v3 = kernel->v3;
  v3.status = reply.status;
  v3.masked_status = reply.masked_status;
  v3.msg_status = reply.msg_status;
  v3.sb_len_wr = reply.sb_len_wr;
  v3.host_status = reply.host_status;
  v3.driver_status = reply.driver_status;
  v3.resid = reply.resid;
  v3.duration = reply.duration;
  v3.info = reply.info;
}

napi_value Request::Deliver(napi_env env) {
  Napi::Env e(env);
  KernelPart& k = *kernel;
  sg_io_v4& v4 = k.v4;
  uint32_t transferred_in = 0;
  if (k.abi == Abi::V3) {
    // v3 results into the v4 output fields (sg_pt_linux: status -> device_status,
    // host_status -> transport_status, sb_len_wr -> response_len, resid -> din/dout_resid);
    // info is kept too (sg_pt_linux drops it).
    const sg_io_hdr& v3 = k.v3;
    v4.device_status = v3.status;
    v4.transport_status = v3.host_status;
    v4.driver_status = v3.driver_status;
    v4.response_len = v3.sb_len_wr;
    v4.duration = v3.duration;
    v4.info = v3.info;
    v4.din_resid = v3.dxfer_direction == SG_DXFER_FROM_DEV ? v3.resid : 0;
    v4.dout_resid = v3.dxfer_direction == SG_DXFER_TO_DEV ? v3.resid : 0;
    v4.retry_delay = 0;
    v4.generated_tag = 0;
    v4.spare_out = 0;
  }
  if (v4.din_xfer_len > 0) {
    const int32_t resid = v4.din_resid;
    if (resid <= 0) {
      transferred_in = v4.din_xfer_len;
    } else if (static_cast<uint32_t>(resid) < v4.din_xfer_len) {
      transferred_in = v4.din_xfer_len - static_cast<uint32_t>(resid);
    }
  }

  // Every view still attached with its length gets its bytes; the first one that was
  // detached or resized is reported (nothing is ever written through a stale view).
  napi_value lost = nullptr;
  auto report = [&](const std::string& field, const std::string& what, double value) {
    if (lost == nullptr) {
      lost = InvalidField(e, field, "was detached or resized while the request was in flight: " + what, value).Value();
    }
  };

  // Header: output fields only (driver_status @108 .. spare_out @152): kernel pointers never reach JS.
  uint8_t* header = sync_header_ != nullptr ? sync_header_ : native_header_;
  if (header != nullptr || LiveView(env, header_view_, kSgIoV4Size, &header)) {
    constexpr size_t first = offsetof(sg_io_v4, driver_status);
    constexpr size_t end = offsetof(sg_io_v4, spare_out) + sizeof(v4.spare_out);
    std::memcpy(header + first, reinterpret_cast<const uint8_t*>(&v4) + first, end - first);
  } else {
    report("header", "its results could not be delivered", 0);
  }

  // Sense: the bytes the kernel wrote into native storage (at most max_response_len).
  size_t sense_bytes = v4.response_len;
  if (sense_bytes > v4.max_response_len) sense_bytes = v4.max_response_len;
  if (sense_bytes > 0) {
    uint8_t* sense = sync_sense_;
    if (sense != nullptr || LiveView(env, sense_view_, sense_view_length_, &sense)) {
      std::memcpy(sense, k.sense(), sense_bytes);
    } else {
      report("sense", "the sense data could not be delivered", static_cast<double>(sense_bytes));
    }
  }

  // Bounced data-in: the bytes the device transferred, segment by segment in order.
  size_t remaining = transferred_in;
  for (size_t i = 0; i < in_.size() && remaining > 0; i++) {
    Segment& s = in_[i];
    const size_t n = remaining < s.length ? remaining : s.length;
    remaining -= n;
    if (s.memory != Memory::Bounced || n == 0) continue;
    uint8_t* js = nullptr;
    if (!LiveView(env, s.view, s.length, &js)) {
      report(in_.size() > 1 ? "dataIn[" + std::to_string(i) + "]" : "dataIn",
             "the data read could not be delivered (use allocateBuffer() or a SharedArrayBuffer for memory that "
             "cannot go away)",
             static_cast<double>(s.length));
      continue;
    }
    std::memcpy(js, s.kernel, n);
    bounced_bytes_ += n;
  }
  return lost;
}

}  // namespace sgv4
