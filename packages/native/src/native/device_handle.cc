#include "device_handle.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "js_errors.h"
#include "reserved_mapping.h"
#include "sg_async_queue.h"

#ifndef SG_GET_ACCESS_COUNT
#define SG_GET_ACCESS_COUNT 0x2289
#endif

namespace sgv4 {

namespace {

constexpr unsigned kSgMajor = 21;  // SCSI_GENERIC_MAJOR, include/uapi/linux/major.h

/** Classifies the open fd with fstat: sg (char major 21), bsg (char, the bsg major from /proc/devices), block. */
NodeKind Classify(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return NodeKind::Other;
  if (S_ISBLK(st.st_mode)) return NodeKind::Block;
  if (S_ISCHR(st.st_mode)) {
    const unsigned major_number = major(st.st_rdev);
    if (major_number == kSgMajor) return NodeKind::Sg;
    const int bsg = ReadBsgMajor();
    if (bsg >= 0 && major_number == static_cast<unsigned>(bsg)) return NodeKind::Bsg;
  }
  return NodeKind::Other;
}

const char* KindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::Sg:
      return "sg";
    case NodeKind::Bsg:
      return "bsg";
    case NodeKind::Block:
      return "block";
    default:
      return "other";
  }
}

/** "ioctl(SG_...)" for the ioctls the handle issues, for OsError.syscall. */
const char* IoctlName(unsigned long request) {
  switch (request) {
    case SG_IO: return "ioctl(SG_IO)";
    case SG_GET_VERSION_NUM: return "ioctl(SG_GET_VERSION_NUM)";
    case SG_GET_SG_TABLESIZE: return "ioctl(SG_GET_SG_TABLESIZE)";
    case SG_GET_COMMAND_Q: return "ioctl(SG_GET_COMMAND_Q)";
    case SG_SET_COMMAND_Q: return "ioctl(SG_SET_COMMAND_Q)";
    case SG_GET_NUM_WAITING: return "ioctl(SG_GET_NUM_WAITING)";
    case SG_GET_PACK_ID: return "ioctl(SG_GET_PACK_ID)";
    case SG_GET_KEEP_ORPHAN: return "ioctl(SG_GET_KEEP_ORPHAN)";
    case SG_SET_KEEP_ORPHAN: return "ioctl(SG_SET_KEEP_ORPHAN)";
    case SG_EMULATED_HOST: return "ioctl(SG_EMULATED_HOST)";
    case SG_GET_RESERVED_SIZE: return "ioctl(SG_GET_RESERVED_SIZE)";
    case SG_SET_RESERVED_SIZE: return "ioctl(SG_SET_RESERVED_SIZE)";
    case SG_GET_LOW_DMA: return "ioctl(SG_GET_LOW_DMA)";
    case SG_GET_ACCESS_COUNT: return "ioctl(SG_GET_ACCESS_COUNT)";
    case SG_SET_TIMEOUT: return "ioctl(SG_SET_TIMEOUT)";
    case SG_GET_TIMEOUT: return "ioctl(SG_GET_TIMEOUT)";
    case SG_SET_FORCE_PACK_ID: return "ioctl(SG_SET_FORCE_PACK_ID)";
    case SG_SCSI_RESET: return "ioctl(SG_SCSI_RESET)";
    case SG_GET_SCSI_ID: return "ioctl(SG_GET_SCSI_ID)";
    case SG_GET_REQUEST_TABLE: return "ioctl(SG_GET_REQUEST_TABLE)";
    case BLKSECTGET: return "ioctl(BLKSECTGET)";
    default: return "ioctl";
  }
}

/** Integer ioctls whose argument is an int the kernel writes (drivers/scsi/sg.c sg_ioctl_common). */
bool IsGetIntIoctl(unsigned long request) {
  switch (request) {
    case SG_GET_VERSION_NUM:
    case SG_GET_SG_TABLESIZE:
    case SG_GET_COMMAND_Q:
    case SG_GET_NUM_WAITING:
    case SG_GET_PACK_ID:
    case SG_GET_KEEP_ORPHAN:
    case SG_EMULATED_HOST:
    case SG_GET_RESERVED_SIZE:
    case SG_GET_LOW_DMA:
    case SG_GET_ACCESS_COUNT:
      return true;
    default:
      return false;
  }
}

/** Integer ioctls whose argument is an int the kernel reads. */
bool IsSetIntIoctl(unsigned long request) {
  switch (request) {
    case SG_SET_TIMEOUT:
    case SG_SET_COMMAND_Q:
    case SG_SET_KEEP_ORPHAN:
    case SG_SET_RESERVED_SIZE:
    case SG_SET_FORCE_PACK_ID:
    case SG_SCSI_RESET:
      return true;
    default:
      return false;
  }
}

/** A JS argument that must be an integer in [min, max]; a TypeError / InvalidFieldError otherwise. */
int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max) {
  Napi::Env env = info.Env();
  if (!info[index].IsNumber()) throw WrongType(env, name, "a number");
  double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= static_cast<double>(min) && value <= static_cast<double>(max)) || value != static_cast<double>(static_cast<int64_t>(value))) {
    throw InvalidField(env, name, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max), value);
  }
  return static_cast<int64_t>(value);
}

/** Runs SG_IO on the libuv threadpool and settles a promise on the main thread. */
class SgIoWorker : public Napi::AsyncWorker {
 public:
  SgIoWorker(Napi::Env env, DeviceHandle* handle, Napi::Object handle_object, std::unique_ptr<PreparedRequest> request)
      : Napi::AsyncWorker(env, "sgv4:sg-io"),
        deferred_(Napi::Promise::Deferred::New(env)),
        handle_(handle),
        fd_(handle->fd()),
        request_(std::move(request)) {
    handle_->threadpool_in_flight++;
    handle_->Pin();
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    void* arg = request_->abi() == Abi::V4 ? static_cast<void*>(request_->v4()) : static_cast<void*>(request_->v3());
    if (ioctl(fd_, SG_IO, arg) < 0) errno_ = errno;
  }

  void OnOK() override { Settle(); }
  void OnError(const Napi::Error&) override { Settle(); }

 private:
  void Settle() {
    Napi::Env env = Env();
    handle_->threadpool_in_flight--;
    try {
      if (handle_->closed()) {
        deferred_.Reject(Aborted(env, "in-flight request (handle closed)").Value());
      } else if (errno_ != 0) {
        deferred_.Reject(OsError(env, errno_, "ioctl(SG_IO)", handle_->path()).Value());
      } else {
        request_->WriteBack();
        deferred_.Resolve(env.Undefined());
      }
    } catch (const Napi::Error&) {
      // The environment is terminating (worker.terminate()): JS can no longer run,
      // so there is nobody left to settle the promise for.
    }
    request_.reset();
    handle_->MaybeReleaseFd();
    handle_->Unpin();
  }

  Napi::Promise::Deferred deferred_;
  DeviceHandle* handle_;
  int fd_;
  int errno_ = 0;
  std::unique_ptr<PreparedRequest> request_;
};

}  // namespace

Napi::Function DeviceHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeHandle",
                     {
                         InstanceMethod<&DeviceHandle::Close>("close"),
                         InstanceAccessor<&DeviceHandle::GetKind>("kind"),
                         InstanceAccessor<&DeviceHandle::GetFd>("fd"),
                         InstanceAccessor<&DeviceHandle::GetClosed>("closed"),
                         InstanceAccessor<&DeviceHandle::GetInFlight>("inFlight"),
                         InstanceMethod<&DeviceHandle::SgIoSync>("sgIoSync"),
                         InstanceMethod<&DeviceHandle::SgIoAsync>("sgIo"),
                         InstanceMethod<&DeviceHandle::Submit>("submit"),
                         InstanceMethod<&DeviceHandle::IoctlGetInt>("ioctlGetInt"),
                         InstanceMethod<&DeviceHandle::IoctlSetInt>("ioctlSetInt"),
                         InstanceMethod<&DeviceHandle::GetTimeout>("getTimeout"),
                         InstanceMethod<&DeviceHandle::GetScsiId>("getScsiId"),
                         InstanceMethod<&DeviceHandle::GetRequestTable>("getRequestTable"),
                         InstanceMethod<&DeviceHandle::BlkSectGet>("blkSectGet"),
                         InstanceMethod<&DeviceHandle::MapReservedBuffer>("mapReservedBuffer"),
                         InstanceMethod<&DeviceHandle::UnmapReservedBuffer>("unmapReservedBuffer"),
                         InstanceMethod<&DeviceHandle::Ref>("ref"),
                         InstanceMethod<&DeviceHandle::Unref>("unref"),
                     });
}

DeviceHandle::DeviceHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceHandle>(info) {
  Napi::Env env = info.Env();
  if (!info.IsConstructCall()) throw Napi::TypeError::New(env, "NativeHandle: use new");
  if (!info[0].IsString()) throw WrongType(env, "path", "a string");
  path_ = info[0].As<Napi::String>().Utf8Value();
  if (path_.find('\0') != std::string::npos) throw InvalidField(env, "path", "must not contain NUL bytes", 0);
  for (size_t i = 1; i <= 3; i++) {
    if (!info[i].IsBoolean()) throw WrongType(env, i == 1 ? "readWrite" : i == 2 ? "nonBlocking" : "exclusive", "a boolean");
  }
  int flags = O_CLOEXEC | (info[1].As<Napi::Boolean>() ? O_RDWR : O_RDONLY);
  if (info[2].As<Napi::Boolean>()) flags |= O_NONBLOCK;
  if (info[3].As<Napi::Boolean>()) flags |= O_EXCL;
  int fd;
  do {
    fd = open(path_.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw OsError(env, errno, "open", path_);
  fd_ = fd;
  kind_ = Classify(fd);
  addon_ = &Addon::Of(env);
  addon_->live_handles.insert(this);
}

DeviceHandle::~DeviceHandle() {
  if (addon_ != nullptr) addon_->live_handles.erase(this);
  Teardown();
}

void DeviceHandle::Teardown() {
  closed_ = true;
  if (queue_) queue_->Shutdown();
  if (mapping_) mapping_->Unmap(false);  // JS no longer runs in this environment
  CloseFdNow();
}

void DeviceHandle::CloseFdNow() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

void DeviceHandle::Pin() {
  if (pins_++ == 0) ObjectWrap::Ref();
}

void DeviceHandle::Unpin() {
  if (pins_ > 0 && --pins_ == 0) ObjectWrap::Unref();
}

void DeviceHandle::MaybeReleaseFd() {
  if (!closed_ || fd_ < 0) return;
  if (threadpool_in_flight > 0) return;
  if (queue_ && queue_->outstanding() > 0) return;
  if (queue_) queue_->Shutdown();  // the poll handle must go before its fd
  CloseFdNow();
}

void DeviceHandle::RequireOpen(Napi::Env env, const char* syscall) const {
  if (closed_) throw OsError(env, EBADF, syscall, path_);
}

Napi::Value DeviceHandle::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "close");
  closed_ = true;
  if (mapping_) {
    mapping_->Unmap(true);
    mapping_.reset();
    Unpin();
  }
  if (queue_) queue_->CancelAll(env);
  MaybeReleaseFd();
  return env.Undefined();
}

Napi::Value DeviceHandle::GetKind(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), KindName(kind_)); }
Napi::Value DeviceHandle::GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), closed_ ? -1 : fd_); }
Napi::Value DeviceHandle::GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }
Napi::Value DeviceHandle::GetInFlight(const Napi::CallbackInfo& info) {
  size_t queued = queue_ ? queue_->outstanding() : 0;
  return Napi::Number::New(info.Env(), static_cast<double>(queued + threadpool_in_flight));
}

Napi::Value DeviceHandle::SgIoSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  std::unique_ptr<PreparedRequest> request;
  try {
    request = PreparedRequest::FromJs(info, 0, kind_, /*pin=*/false);
  } catch (PreparationError& e) {
    throw e.error;
  }
  void* arg = request->abi() == Abi::V4 ? static_cast<void*>(request->v4()) : static_cast<void*>(request->v3());
  if (ioctl(fd_, SG_IO, arg) < 0) throw OsError(env, errno, "ioctl(SG_IO)", path_);
  request->WriteBack();
  return env.Undefined();
}

Napi::Value DeviceHandle::SgIoAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  std::unique_ptr<PreparedRequest> request;
  try {
    request = PreparedRequest::FromJs(info, 0, kind_);
  } catch (PreparationError& e) {
    throw e.error;
  }
  auto* worker = new SgIoWorker(env, this, Value(), std::move(request));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value DeviceHandle::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "write");
  if (kind_ != NodeKind::Sg) {
    throw InvalidField(env, "handle.kind", "the write()/read() async interface exists only on sg nodes in Linux 6.1", 0);
  }
  std::unique_ptr<PreparedRequest> request;
  try {
    request = PreparedRequest::FromJs(info, 0, kind_);
  } catch (PreparationError& e) {
    throw e.error;
  }
  if (!queue_) queue_ = std::make_unique<SgAsyncQueue>(env, this);
  return queue_->Submit(env, std::move(request));
}

Napi::Value DeviceHandle::IoctlGetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  unsigned long request = static_cast<unsigned long>(IntegerArg(info, 0, "request", 0, 0xffffffffLL));
  if (!IsGetIntIoctl(request)) throw InvalidField(env, "request", "not one of the supported int-returning sg ioctls", static_cast<double>(request));
  int value = 0;
  if (ioctl(fd_, request, &value) < 0) throw OsError(env, errno, IoctlName(request), path_);
  return Napi::Number::New(env, value);
}

Napi::Value DeviceHandle::IoctlSetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  unsigned long request = static_cast<unsigned long>(IntegerArg(info, 0, "request", 0, 0xffffffffLL));
  if (!IsSetIntIoctl(request)) throw InvalidField(env, "request", "not one of the supported int-taking sg ioctls", static_cast<double>(request));
  int value = static_cast<int>(IntegerArg(info, 1, "value", INT32_MIN, INT32_MAX));
  if (ioctl(fd_, request, &value) < 0) throw OsError(env, errno, IoctlName(request), path_);
  return env.Undefined();
}

Napi::Value DeviceHandle::GetTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  // SG_GET_TIMEOUT returns the timeout (USER_HZ ticks) as the ioctl's result (sg.c, scsi_ioctl.c, bsg.c).
  int result = ioctl(fd_, SG_GET_TIMEOUT, nullptr);
  if (result < 0) throw OsError(env, errno, "ioctl(SG_GET_TIMEOUT)", path_);
  return Napi::Number::New(env, result);
}

Napi::Value DeviceHandle::GetScsiId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  sg_scsi_id id{};
  if (ioctl(fd_, SG_GET_SCSI_ID, &id) < 0) throw OsError(env, errno, "ioctl(SG_GET_SCSI_ID)", path_);
  Napi::Object out = Napi::Object::New(env);
  out.Set("hostNo", id.host_no);
  out.Set("channel", id.channel);
  out.Set("scsiId", id.scsi_id);
  out.Set("lun", id.lun);
  out.Set("scsiType", id.scsi_type);
  out.Set("hCmdPerLun", id.h_cmd_per_lun);
  out.Set("dQueueDepth", id.d_queue_depth);
  return out;
}

Napi::Value DeviceHandle::GetRequestTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  sg_req_info table[SG_MAX_QUEUE]{};  // the driver always writes SG_MAX_QUEUE entries
  if (ioctl(fd_, SG_GET_REQUEST_TABLE, table) < 0) throw OsError(env, errno, "ioctl(SG_GET_REQUEST_TABLE)", path_);
  Napi::Array out = Napi::Array::New(env, SG_MAX_QUEUE);
  for (uint32_t i = 0; i < SG_MAX_QUEUE; i++) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("reqState", table[i].req_state);
    entry.Set("orphan", table[i].orphan);
    entry.Set("sgIoOwned", table[i].sg_io_owned);
    entry.Set("problem", table[i].problem);
    entry.Set("packId", table[i].pack_id);
    entry.Set("duration", table[i].duration);
    out.Set(i, entry);
  }
  return out;
}

Napi::Value DeviceHandle::BlkSectGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  // sg answers in bytes through an int (sg_ioctl_common); block devices in 512-byte
  // sectors through an unsigned short (block/ioctl.c blkdev_common_ioctl, put_ushort).
  int value = 0;
  if (ioctl(fd_, BLKSECTGET, &value) < 0) throw OsError(env, errno, "ioctl(BLKSECTGET)", path_);
  if (kind_ == NodeKind::Block) {
    unsigned short sectors;
    std::memcpy(&sectors, &value, sizeof sectors);
    return Napi::Number::New(env, sectors);
  }
  return Napi::Number::New(env, value);
}

Napi::Value DeviceHandle::MapReservedBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "mmap");
  int64_t length = IntegerArg(info, 0, "length", 1, INT32_MAX);
  if (mapping_) throw InvalidField(env, "length", "the reserved buffer is already mapped on this handle; unmap it first", static_cast<double>(length));
  int err = 0;
  mapping_ = ReservedMapping::Map(env, fd_, static_cast<size_t>(length), &err);
  if (!mapping_) throw OsError(env, err, "mmap", path_);
  Pin();
  return mapping_->buffer();
}

Napi::Value DeviceHandle::UnmapReservedBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!mapping_) return Napi::Boolean::New(env, false);
  mapping_->Unmap(true);
  mapping_.reset();
  Unpin();
  return Napi::Boolean::New(env, true);
}

Napi::Value DeviceHandle::Ref(const Napi::CallbackInfo& info) {
  refed_ = true;
  if (queue_) queue_->ApplyRef();
  return info.This();
}

Napi::Value DeviceHandle::Unref(const Napi::CallbackInfo& info) {
  refed_ = false;
  if (queue_) queue_->ApplyRef();
  return info.This();
}

}  // namespace sgv4
