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

/** A JS data argument: null, one flat buffer, or an iovec of segments. */
struct DataArg {
  bool present = false;
  bool is_iovec = false;
  uint8_t* flat = nullptr;
  uint64_t total = 0;
  std::vector<sg_iovec> segments;
};

uint8_t* TypedBytes(Napi::Value value, const std::string& name, size_t* length) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw PreparationError{WrongType(value.Env(), name, "a Uint8Array")};
  }
  Napi::Uint8Array array = value.As<Napi::Uint8Array>();
  *length = array.ByteLength();
  return array.Data();
}

DataArg ReadData(Napi::Value value, const std::string& name, std::vector<Napi::ObjectReference>& pinned, bool pin) {
  DataArg data;
  if (value.IsNull() || value.IsUndefined()) return data;
  data.present = true;
  if (value.IsArray()) {
    Napi::Array array = value.As<Napi::Array>();
    data.is_iovec = true;
    uint32_t count = array.Length();
    data.segments.reserve(count);
    for (uint32_t i = 0; i < count; i++) {
      size_t length = 0;
      uint8_t* bytes = TypedBytes(array.Get(i), name + "[" + std::to_string(i) + "]", &length);
      data.segments.push_back(sg_iovec{bytes, length});
      data.total += length;
      // Pin each segment, not the array: JS may replace array elements later.
      if (pin) pinned.push_back(Napi::Persistent(array.Get(i).As<Napi::Object>()));
    }
    return data;
  }
  size_t length = 0;
  data.flat = TypedBytes(value, name, &length);
  data.total = length;
  if (pin) pinned.push_back(Napi::Persistent(value.As<Napi::Object>()));
  return data;
}

/**
 * Checks one direction's buffer: xfer_len must fit in the buffer, and the iovec count
 * in the header must match the segments passed (each segment is a whole JS view, so
 * every iovec entry lies inside its buffer by construction).
 */
void CheckDirection(Napi::Env env, const DataArg& data, const char* prefix, uint32_t xfer_len, uint32_t iovec_count,
                    bool mmap_io) {
  std::string p(prefix);
  if (mmap_io) {
    if (data.present) {
      throw PreparationError{InvalidField(env, p + "_xferp", "must be null with SG_FLAG_MMAP_IO: the data moves through the mmap-ed reserved buffer", 1)};
    }
    if (iovec_count != 0) {
      throw PreparationError{InvalidField(env, p + "_iovec_count", "must be 0 with SG_FLAG_MMAP_IO", iovec_count)};
    }
    return;
  }
  if (!data.present) {
    if (xfer_len != 0) {
      throw PreparationError{InvalidField(env, p + "_xfer_len", "must be 0 when no " + p + " buffer is passed", xfer_len)};
    }
    if (iovec_count != 0) {
      throw PreparationError{InvalidField(env, p + "_iovec_count", "must be 0 when no " + p + " buffer is passed", iovec_count)};
    }
    return;
  }
  if (data.is_iovec) {
    if (iovec_count != data.segments.size()) {
      throw PreparationError{InvalidField(env, p + "_iovec_count",
                                          "must equal the number of segments passed (" + std::to_string(data.segments.size()) + ")",
                                          iovec_count)};
    }
  } else if (iovec_count != 0) {
    throw PreparationError{InvalidField(env, p + "_iovec_count", "must be 0 for a flat (single Uint8Array) buffer", iovec_count)};
  }
  if (xfer_len > data.total) {
    throw PreparationError{InvalidField(env, p + "_xfer_len",
                                        "must not exceed the " + p + " buffer size (" + std::to_string(data.total) + " bytes)",
                                        xfer_len)};
  }
}

}  // namespace

std::unique_ptr<PreparedRequest> PreparedRequest::FromJs(const Napi::CallbackInfo& info, size_t first, NodeKind kind,
                                                        bool pin) {
  Napi::Env env = info.Env();
  std::unique_ptr<PreparedRequest> req(new PreparedRequest());
  req->abi_ = AbiFor(kind);

  size_t header_length = 0;
  uint8_t* header = TypedBytes(info[first], "header", &header_length);
  if (header_length != kSgIoV4Size) {
    throw PreparationError{InvalidField(env, "header", "must be exactly 160 bytes (an encoded sg_io_v4)", static_cast<double>(header_length))};
  }
  if (pin) req->pinned_.push_back(Napi::Persistent(info[first].As<Napi::Object>()));
  req->js_header_ = header;
  std::memcpy(&req->v4_, header, kSgIoV4Size);
  sg_io_v4& h = req->v4_;

  size_t cdb_length = 0;
  uint8_t* cdb = TypedBytes(info[first + 1], "cdb", &cdb_length);
  if (pin) req->pinned_.push_back(Napi::Persistent(info[first + 1].As<Napi::Object>()));

  uint8_t* sense = nullptr;
  size_t sense_length = 0;
  if (!info[first + 2].IsNull() && !info[first + 2].IsUndefined()) {
    sense = TypedBytes(info[first + 2], "sense", &sense_length);
    if (pin) req->pinned_.push_back(Napi::Persistent(info[first + 2].As<Napi::Object>()));
  }
  DataArg out = ReadData(info[first + 3], "dataOut", req->pinned_, pin);
  DataArg in = ReadData(info[first + 4], "dataIn", req->pinned_, pin);

  if (h.guard != 'Q') throw PreparationError{InvalidField(env, "guard", "must be 'Q' (0x51)", h.guard)};

  // CDB length: bsg (scsi_bsg_sg_io_fn) and block SG_IO refuse more than 32 bytes
  // (sizeof scsi_cmnd.cmnd); sg accepts 6..252 at submission (sg_write/sg_new_write,
  // MAX_COMMAND_SIZE checks in drivers/scsi/sg.c) and fails > 32 later in sg_start_req.
  const uint32_t max_cdb = kind == NodeKind::Sg ? 252 : 32;
  if (h.request_len < 6 || h.request_len > max_cdb) {
    throw PreparationError{InvalidField(env, "request_len", "must be 6.." + std::to_string(max_cdb) + " bytes for this node", h.request_len)};
  }
  if (h.request_len > cdb_length) {
    throw PreparationError{InvalidField(env, "request_len", "must not exceed the cdb buffer size (" + std::to_string(cdb_length) + " bytes)", h.request_len)};
  }
  if (h.max_response_len > sense_length) {
    throw PreparationError{InvalidField(env, "max_response_len", "must not exceed the sense buffer size (" + std::to_string(sense_length) + " bytes)", h.max_response_len)};
  }
  const bool mmap_io = (h.flags & SG_FLAG_MMAP_IO) != 0;
  if (mmap_io && kind != NodeKind::Sg) {
    throw PreparationError{InvalidField(env, "flags", "SG_FLAG_MMAP_IO needs an sg node (it names the sg reserved buffer)", h.flags)};
  }
  req->mmap_io_ = mmap_io;
  CheckDirection(env, out, "dout", h.dout_xfer_len, h.dout_iovec_count, mmap_io && h.dout_xfer_len > 0);
  CheckDirection(env, in, "din", h.din_xfer_len, h.din_iovec_count, mmap_io && h.din_xfer_len > 0);
  if (mmap_io) {
    if (out.present || in.present) {
      throw PreparationError{InvalidField(env, "flags", "SG_FLAG_MMAP_IO requests pass no data buffer", h.flags)};
    }
  }

  if (req->abi_ == Abi::V4) {
    // bsg in 6.1 ignores dout/din_iovec_count and maps dxferp as one flat buffer
    // (drivers/scsi/scsi_bsg.c): an iovec array would be overwritten as data.
    if (out.is_iovec || in.is_iovec) {
      throw PreparationError{InvalidField(env, in.is_iovec ? "din_iovec_count" : "dout_iovec_count",
                                          "bsg in Linux 6.1 ignores iovec counts (scsi_bsg_sg_io_fn): pass a flat buffer",
                                          in.is_iovec ? h.din_iovec_count : h.dout_iovec_count)};
    }
    h.request = reinterpret_cast<uintptr_t>(cdb);
    h.response = reinterpret_cast<uintptr_t>(sense);
    h.dout_xferp = reinterpret_cast<uintptr_t>(out.flat);
    h.din_xferp = reinterpret_cast<uintptr_t>(in.flat);
    h.usr_ptr = 0;
    return req;
  }

  // Down-conversion to sg_io_hdr, following sg3_utils lib/sg_pt_linux.c (do_scsi_pt_v3).
  if (h.protocol != BSG_PROTOCOL_SCSI || h.subprotocol != BSG_SUB_PROTOCOL_SCSI_CMD) {
    throw PreparationError{InvalidField(env, h.protocol != 0 ? "protocol" : "subprotocol",
                                        "sg_io_hdr (v3) only carries SCSI commands: must be 0", h.protocol != 0 ? h.protocol : h.subprotocol)};
  }
  if (h.dout_xfer_len > 0 && h.din_xfer_len > 0) {
    throw PreparationError{InvalidField(env, "dout_xfer_len",
                                        "sg_io_hdr (v3) cannot carry data in both directions (bidi), as sg_pt_linux refuses",
                                        h.dout_xfer_len)};
  }
  if (h.max_response_len > UCHAR_MAX) {
    throw PreparationError{InvalidField(env, "max_response_len", "must be <= 255: sg_io_hdr.mx_sb_len is one byte", h.max_response_len)};
  }
  const bool to_dev = h.dout_xfer_len > 0;
  const DataArg& data = to_dev ? out : in;
  const uint32_t iovec_count = to_dev ? h.dout_iovec_count : h.din_iovec_count;
  if (iovec_count > USHRT_MAX) {
    throw PreparationError{InvalidField(env, to_dev ? "dout_iovec_count" : "din_iovec_count", "must be <= 65535: sg_io_hdr.iovec_count is 16 bits", iovec_count)};
  }
  sg_io_hdr& v3 = req->v3_;
  v3.interface_id = 'S';
  v3.cmd_len = static_cast<unsigned char>(h.request_len);
  v3.cmdp = cdb;
  v3.mx_sb_len = static_cast<unsigned char>(h.max_response_len);
  v3.sbp = sense;
  v3.timeout = h.timeout;
  v3.flags = h.flags;  // SG_FLAG_* (DIRECT_IO, MMAP_IO, Q_AT_TAIL/HEAD) pass through unchanged
  v3.pack_id = static_cast<int>(h.request_extra);
  if (h.dout_xfer_len == 0 && h.din_xfer_len == 0) {
    v3.dxfer_direction = SG_DXFER_NONE;
  } else {
    v3.dxfer_direction = to_dev ? SG_DXFER_TO_DEV : SG_DXFER_FROM_DEV;
    v3.dxfer_len = to_dev ? h.dout_xfer_len : h.din_xfer_len;
    if (mmap_io) {
      v3.dxferp = nullptr;  // sg_read style: the data stays in the mmap-ed reserved buffer
    } else if (data.is_iovec) {
      req->iovec_ = data.segments;
      v3.iovec_count = static_cast<unsigned short>(req->iovec_.size());
      v3.dxferp = req->iovec_.data();
    } else {
      v3.dxferp = data.flat;
    }
  }
  return req;
}

void PreparedRequest::TakeV3Reply(const sg_io_hdr& reply) {
  v3_.status = reply.status;
  v3_.masked_status = reply.masked_status;
  v3_.msg_status = reply.msg_status;
  v3_.sb_len_wr = reply.sb_len_wr;
  v3_.host_status = reply.host_status;
  v3_.driver_status = reply.driver_status;
  v3_.resid = reply.resid;
  v3_.duration = reply.duration;
  v3_.info = reply.info;
}

void PreparedRequest::WriteBack() {
  if (abi_ == Abi::V3) {
    // v3 results into the v4 output fields (sg_pt_linux: status -> device_status,
    // host_status -> transport_status, sb_len_wr -> response_len, resid -> din/dout_resid);
    // info is kept too (sg_pt_linux drops it).
    v4_.device_status = v3_.status;
    v4_.transport_status = v3_.host_status;
    v4_.driver_status = v3_.driver_status;
    v4_.response_len = v3_.sb_len_wr;
    v4_.duration = v3_.duration;
    v4_.info = v3_.info;
    v4_.din_resid = v3_.dxfer_direction == SG_DXFER_FROM_DEV ? v3_.resid : 0;
    v4_.dout_resid = v3_.dxfer_direction == SG_DXFER_TO_DEV ? v3_.resid : 0;
    v4_.retry_delay = 0;
    v4_.generated_tag = 0;
    v4_.spare_out = 0;
  }
  // Output fields only (driver_status @108 .. spare_out @152): kernel pointers never reach JS.
  constexpr size_t first = offsetof(sg_io_v4, driver_status);
  constexpr size_t end = offsetof(sg_io_v4, spare_out) + sizeof(v4_.spare_out);
  std::memcpy(js_header_ + first, reinterpret_cast<const uint8_t*>(&v4_) + first, end - first);
}

}  // namespace sgv4
