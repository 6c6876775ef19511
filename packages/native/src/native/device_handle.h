// DeviceHandle: one open device node (sg, bsg, block device, or any other file for
// tests), exposed to JS as the NativeHandle class. Owns the fd, the sg async queue
// and the mmap-ed reserved buffer; closes the fd only once the kernel is done with
// every request that still references JS buffers.
#pragma once

#include <napi.h>
#include "libuv_abi.h"

#include <atomic>
#include <memory>
#include <string>

#include "sg_io_request.h"

namespace sgv4 {

class Addon;
class SgAsyncQueue;
class ReservedMapping;

class DeviceHandle : public Napi::ObjectWrap<DeviceHandle> {
 public:
  static Napi::Function Define(Napi::Env env);

  /** JS: new NativeHandle(path, readWrite, nonBlocking, exclusive); opens with O_CLOEXEC. */
  explicit DeviceHandle(const Napi::CallbackInfo& info);
  ~DeviceHandle() override;

  /** Environment teardown: stop polling, unmap, close the fd; no JS is called back. */
  void Teardown();
  /** The env is gone: forget the Addon (its destructor calls this). */
  void ForgetAddon() { addon_ = nullptr; }

  NodeKind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  bool closed() const { return closed_; }
  bool refed() const { return refed_; }

  /** Keeps the JS object alive while the kernel holds requests or a mapping (balanced). */
  void Pin();
  void Unpin();
  /** Called when a threadpool request or the async queue finishes: closes the fd once idle. */
  void MaybeReleaseFd();

  /** Threadpool requests still running; the fd stays open until they are done. */
  int threadpool_in_flight = 0;

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetKind(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetInFlight(const Napi::CallbackInfo& info);
  Napi::Value SgIoSync(const Napi::CallbackInfo& info);
  Napi::Value SgIoAsync(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value IoctlGetInt(const Napi::CallbackInfo& info);
  Napi::Value IoctlSetInt(const Napi::CallbackInfo& info);
  Napi::Value GetTimeout(const Napi::CallbackInfo& info);
  Napi::Value GetScsiId(const Napi::CallbackInfo& info);
  Napi::Value GetRequestTable(const Napi::CallbackInfo& info);
  Napi::Value BlkSectGet(const Napi::CallbackInfo& info);
  Napi::Value MapReservedBuffer(const Napi::CallbackInfo& info);
  Napi::Value UnmapReservedBuffer(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);

  /** Throws OsError(EBADF) naming `syscall` when close() was already called. */
  void RequireOpen(Napi::Env env, const char* syscall) const;
  void CloseFdNow();

  Addon* addon_ = nullptr;
  std::string path_;
  int fd_ = -1;
  NodeKind kind_ = NodeKind::Other;
  bool closed_ = false;
  bool refed_ = true;
  int pins_ = 0;
  std::unique_ptr<SgAsyncQueue> queue_;
  std::unique_ptr<ReservedMapping> mapping_;
};

}  // namespace sgv4
