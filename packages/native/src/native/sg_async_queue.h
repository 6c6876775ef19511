// The sg driver's asynchronous interface on one fd: submission with write() of a v3
// header carrying pack_id, completion through uv_poll (EPOLLIN when a request is
// done) and read(). Each completion resolves its own promise, matched by pack_id.
#pragma once

#include <napi.h>
#include "libuv_abi.h"

#include <memory>
#include <unordered_map>

#include "sg_io_request.h"

namespace sgv4 {

class DeviceHandle;

class SgAsyncQueue {
 public:
  SgAsyncQueue(Napi::Env env, DeviceHandle* owner);
  ~SgAsyncQueue();

  /**
   * write()s the request (drivers/scsi/sg.c sg_write -> sg_new_write). The kernel
   * refuses a 17th outstanding request with EDOM (SG_MAX_QUEUE = 16; 1 while the
   * fd's cmd_q is 0). Returns the promise of this request.
   */
  Napi::Value Submit(Napi::Env env, std::unique_ptr<PreparedRequest> request);

  /** close(): reject every pending promise as canceled, keep the buffers until read() drains them. */
  void CancelAll(Napi::Env env);
  /** Environment teardown: stop polling and drop every request without calling JS. */
  void Shutdown();
  /** Requests written but not yet read back (canceled ones included). */
  size_t outstanding() const { return pending_.size(); }
  /** Applies the owner's ref/unref state to the poll handle. */
  void ApplyRef();

 private:
  struct Pending {
    std::unique_ptr<PreparedRequest> request;
    Napi::Promise::Deferred deferred;
    bool canceled = false;
  };

  static void OnPoll(uv_poll_t* poll, int status, int events);
  void DrainCompleted();
  void DrainCompletedInScope();
  void StartPolling();
  void StopPolling();

  Napi::Env env_;
  DeviceHandle* owner_;
  uv_poll_t* poll_ = nullptr;  // freed in its close callback
  bool polling_ = false;
  Napi::AsyncContext context_;
  std::unordered_map<int32_t, Pending> pending_;
};

}  // namespace sgv4
