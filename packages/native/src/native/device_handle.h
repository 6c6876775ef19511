// DeviceHandle: one open device node (sg, bsg, block device, or any other file for
// tests), exposed to JS as the NativeHandle class. Owns the fd, the sg queue (sg) or
// the requests on pool threads (other kinds), and the mmap-ed reserved buffer; settles
// every promise exactly once; closes the fd only once the kernel is done with every
// request that still uses memory of this process.
#pragma once

#include <napi.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "blocking_pool.h"
#include "handle_stats.h"
#include "libuv_abi.h"
#include "sg_io_request.h"

namespace sgv4 {

class Addon;
class SgQueue;
class ReservedMapping;
class NativeCommand;

class DeviceHandle : public Napi::ObjectWrap<DeviceHandle> {
 public:
  static Napi::Function Define(Napi::Env env);

  /** JS: new NativeHandle(path, readWrite, nonBlocking, exclusive); opens with O_CLOEXEC. */
  explicit DeviceHandle(const Napi::CallbackInfo& info);
  ~DeviceHandle() override;

  /** Environment teardown: stop polling, drop every request without calling JS, close the fd. */
  void Teardown();
  /** The environment's Addon is gone (its destructor calls this). */
  void ForgetAddon() { addon_ = nullptr; }

  NodeKind kind() const { return kind_; }
  const std::string& path() const { return path_; }
  HandleStats& stats() { return stats_; }
  bool refed() const { return refed_; }
  Napi::Env env() const { return Env(); }

  /** A request the kernel is done with (or that failed before reaching it): settle it. */
  void Complete(Request* request);
  /** The sg queue became unusable: reject everything it holds with OsError(err, syscall). */
  void OnQueueFailed(int err, const char* syscall);
  /** After a batch of completions: finish a pending close, update loop refs and pins. */
  void AfterProgress();
  /** A pool thread finished `job` (JS thread, from the environment's CompletionSink). */
  void OnJobDone(BlockingJob* job);

  // Used by NativeCommand (prepared requests).
  void CheckUsable(Napi::Env env, const char* syscall) const;
  Napi::Value StartAsync(Napi::Env env, Request* request, double abort_id);
  void RunSync(Napi::Env env, Request* request);
  /** Completes what the sg queue held while a synchronous request ran (SgQueue::RunSync). */
  void CompleteHeld();
  void RunMany(Napi::Env env, Request* const* requests, const double* abort_ids, size_t count, napi_value* promises);
  BouncePool* pool();
  /** Gives back a one-off request that was never submitted (or ran synchronously). */
  void ReturnScratch(Request* request) { Recycle(request); }
  /** Mode of an asynchronous request on this handle. */
  Mode AsyncMode() const { return queue_ ? Mode::Queue : Mode::Thread; }

 private:
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value GetKind(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetClosed(const Napi::CallbackInfo& info);
  Napi::Value GetInFlight(const Napi::CallbackInfo& info);
  Napi::Value GetFailure(const Napi::CallbackInfo& info);
  Napi::Value GetCapabilities(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value SgIoSync(const Napi::CallbackInfo& info);
  Napi::Value SgIo(const Napi::CallbackInfo& info);
  Napi::Value SubmitMany(const Napi::CallbackInfo& info);
  Napi::Value Prepare(const Napi::CallbackInfo& info);
  Napi::Value RunManyJs(const Napi::CallbackInfo& info);
  Napi::Value Abandon(const Napi::CallbackInfo& info);
  Napi::Value IoctlGetInt(const Napi::CallbackInfo& info);
  Napi::Value IoctlSetInt(const Napi::CallbackInfo& info);
  /** SG_SCSI_RESET off the JS thread (see ScsiResetWorker): a promise of undefined or an OsError. */
  Napi::Value ScsiResetAsync(const Napi::CallbackInfo& info);
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
  void Enqueue(Request* request);
  void StartThreadJob(Request* request);
  /** Rejects a request that never reached the kernel, or settles an abandoned one's promise early. */
  void RejectAborted(Request* request, const std::string& why, napi_value reason);
  /** The request is finished with: free it, or hand a prepared one back to its command. */
  /**
   * The outcome of a completed request, for its promise: an OsError for a failed system call,
   * an error Deliver() raised, or nullptr for success. Counts its bounced bytes.
   */
  napi_value Outcome(Napi::Env env, Request* request);
  void Dispose(Request* request);
  void Unregister(Request* request);
  /** An empty request from the handle's spares (or a new one). */
  Request* TakeRequest();
  /** Clears a finished one-off request and keeps it for reuse. */
  void Recycle(Request* request);
  void FinalizeClose();
  size_t Pending() const;
  void UpdateLoopRef();
  void UpdatePin();
  void CloseQueueAndFd();
  std::string Describe(const Request* request) const;

  Addon* addon_ = nullptr;
  std::string path_;
  std::shared_ptr<SharedFd> fd_;
  int raw_fd_ = -1;
  NodeKind kind_ = NodeKind::Other;
  bool closing_ = false;   // close() called (or teardown)
  bool fd_closed_ = false; // the fd is really closed
  bool refed_ = true;
  bool pinned_ = false;
  bool torn_down_ = false;
  int queue_start_error_ = 0;  // uv error from starting the poll handle (sg)
  std::unique_ptr<SgQueue> queue_;
  std::unique_ptr<ReservedMapping> mapping_;
  std::unordered_set<Request*> thread_jobs_;
  std::unordered_map<double, Request*> abortable_;
  std::vector<Request*> spares_;  // cleared one-off requests, reused: no allocation per call
  napi_deferred close_deferred_ = nullptr;
  napi_ref close_promise_ = nullptr;
  HandleStats stats_;
};

}  // namespace sgv4
