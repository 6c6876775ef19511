#include "device_handle.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "addon.h"
#include "js_errors.h"
#include "native_command.h"
#include "reserved_mapping.h"
#include "sg_queue.h"

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

/** The error value for a failed request, built without letting a JS exception escape. */
napi_value OsErrorValue(Napi::Env env, int err, const char* syscall, const std::string& path) {
  try {
    return OsError(env, err, syscall, path).Value();
  } catch (const Napi::Error& e) {
    return e.Value();
  }
}

/**
 * SG_SCSI_RESET on a libuv threadpool thread. The ioctl sleeps until the LLD's error handler
 * is done (drivers/scsi/scsi_error.c scsi_ioctl_reset -> the host's eh_*_reset_handler): for
 * iSCSI, libiscsi's iscsi_exec_task_mgmt_fn waits for the target's TMF response for up to
 * lu_reset_timeout (30 s) and then fails the connection. On the JS thread that would stall
 * the event loop for as long, and a target served by the same process could never send the
 * response the kernel waits for. The worker owns a duplicate of the fd (F_DUPFD_CLOEXEC), so
 * closing the handle meanwhile is safe; the reset is never cancelled (the kernel cannot be).
 * napi_async_work is fine here, unlike for SG_IO (blocking_pool.h): one rare call per
 * reset, bounded by the kernel's own timeouts.
 */
class ScsiResetWorker : public Napi::AsyncWorker {
 public:
  ScsiResetWorker(Napi::Env env, int fd, int value, std::string path)
      : Napi::AsyncWorker(env, "sgv4:SG_SCSI_RESET"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        value_(value),
        path_(std::move(path)) {}
  ~ScsiResetWorker() override {
    if (fd_ >= 0) close(fd_);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    int value = value_;
    if (ioctl(fd_, SG_SCSI_RESET, &value) < 0) error_ = errno;
    close(fd_);
    fd_ = -1;
  }
  void OnOK() override {
    if (error_ == 0) {
      deferred_.Resolve(Env().Undefined());
    } else {
      deferred_.Reject(OsErrorValue(Env(), error_, "ioctl(SG_SCSI_RESET)", path_));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  int value_;
  int error_ = 0;
  std::string path_;
};

napi_value AbortedValue(Napi::Env env, const std::string& what, napi_value reason) {
  try {
    return Aborted(env, what, reason).Value();
  } catch (const Napi::Error& e) {
    return e.Value();
  }
}

}  // namespace

Napi::Function DeviceHandle::Define(Napi::Env env) {
  return DefineClass(env, "NativeHandle",
                     {
                         InstanceMethod<&DeviceHandle::Close>("close"),
                         InstanceAccessor<&DeviceHandle::GetKind>("kind"),
                         InstanceAccessor<&DeviceHandle::GetFd>("fd"),
                         InstanceAccessor<&DeviceHandle::GetClosed>("closed"),
                         InstanceAccessor<&DeviceHandle::GetInFlight>("inFlight"),
                         InstanceAccessor<&DeviceHandle::GetFailure>("failure"),
                         InstanceAccessor<&DeviceHandle::GetCapabilities>("capabilities"),
                         InstanceMethod<&DeviceHandle::Stats>("stats"),
                         InstanceMethod<&DeviceHandle::SgIoSync>("sgIoSync"),
                         InstanceMethod<&DeviceHandle::SgIo>("sgIo"),
                         InstanceMethod<&DeviceHandle::SubmitMany>("submitMany"),
                         InstanceMethod<&DeviceHandle::Prepare>("prepare"),
                         InstanceMethod<&DeviceHandle::RunManyJs>("runMany"),
                         InstanceMethod<&DeviceHandle::Abandon>("abandon"),
                         InstanceMethod<&DeviceHandle::IoctlGetInt>("ioctlGetInt"),
                         InstanceMethod<&DeviceHandle::IoctlSetInt>("ioctlSetInt"),
                         InstanceMethod<&DeviceHandle::ScsiResetAsync>("scsiResetAsync"),
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
  raw_fd_ = fd;
  fd_ = std::make_shared<SharedFd>(fd);
  kind_ = Classify(fd);
  addon_ = &Addon::Of(env);
  addon_->live_handles.insert(this);
  // The write()/read() queue needs both directions (vfs_write refuses an fd without
  // FMODE_WRITE, EBADF): an sg node opened read-only sends SG_IO instead (see RunSync).
  if (kind_ == NodeKind::Sg && info[1].As<Napi::Boolean>().Value()) {
    // O_NONBLOCK on the open file: sg_read answers -EAGAIN instead of sleeping when
    // nothing is ready, so the drains never block; sg_write only skips its wait for host
    // error recovery (scsi_block_when_processing_errors). open()'s own O_NONBLOCK
    // semantics were decided above by the caller's flag.
    const int status_flags = fcntl(fd, F_GETFL);
    if (status_flags >= 0) fcntl(fd, F_SETFL, status_flags | O_NONBLOCK);
    queue_ = std::make_unique<SgQueue>(this, fd);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, reinterpret_cast<struct uv_loop_s**>(&loop));
    const int err = queue_->Start(loop);
    // The synchronous path does not need the poll handle; asynchronous requests are refused with this errno.
    if (err != 0) queue_start_error_ = -err;
  }
}

DeviceHandle::~DeviceHandle() {
  if (addon_ != nullptr) addon_->live_handles.erase(this);
  if (!torn_down_ && addon_ != nullptr) Teardown();
  for (Request* spare : spares_) delete spare;
}

Request* DeviceHandle::TakeRequest() {
  if (spares_.empty()) return Request::Create().release();
  Request* request = spares_.back();
  spares_.pop_back();
  return request;
}

void DeviceHandle::Recycle(Request* request) {
  request->Clear();
  if (request->kernel && spares_.size() < 64) {
    spares_.push_back(request);
  } else {
    delete request;
  }
}

// ---------------------------------------------------------------------------------------
// Request lifecycle

size_t DeviceHandle::Pending() const {
  size_t pending = thread_jobs_.size();
  if (queue_ && !queue_->failed()) pending += static_cast<size_t>(queue_->in_kernel()) + queue_->waiting();
  return pending;
}

std::string DeviceHandle::Describe(const Request* request) const {
  char opcode[8];
  std::snprintf(opcode, sizeof opcode, "0x%02x", request->kernel ? request->kernel->cdb[0] : 0);
  return std::string("SCSI command ") + opcode + " on " + path_;
}

void DeviceHandle::CheckUsable(Napi::Env env, const char* syscall) const {
  RequireOpen(env, syscall);
  if (queue_ && queue_->failed()) throw OsError(env, queue_->fail_errno(), queue_->fail_syscall(), path_);
}

void DeviceHandle::RequireOpen(Napi::Env env, const char* syscall) const {
  if (closing_) throw OsError(env, EBADF, syscall, path_);
}

BouncePool* DeviceHandle::pool() { return addon_->bounce_pool.get(); }

void DeviceHandle::Unregister(Request* request) {
  if (request->abort_id != 0) {
    abortable_.erase(request->abort_id);
    request->abort_id = 0;
  }
}

void DeviceHandle::Dispose(Request* request) {
  Unregister(request);
  request->state = RequestState::Idle;
  request->abandoned = false;
  request->deferred = nullptr;
  request->completion_error = 0;
  request->completion_syscall = nullptr;
  if (request->command != nullptr) {
    request->command->RunFinished();  // may free the request (a released command)
    return;
  }
  Recycle(request);
}

void DeviceHandle::Complete(Request* request) {
  Unregister(request);
  request->state = RequestState::Done;
  if (request->abandoned) {
    Dispose(request);  // its promise was settled when it was abandoned
    return;
  }
  if (request->deferred == nullptr) return;  // a synchronous caller takes it from here
  Napi::Env env = Env();
  napi_value error = Outcome(env, request);
  napi_deferred deferred = request->deferred;
  request->deferred = nullptr;
  if (error != nullptr) {
    napi_reject_deferred(env, deferred, error);
  } else {
    napi_resolve_deferred(env, deferred, env.Undefined());
  }
  Dispose(request);
}

napi_value DeviceHandle::Outcome(Napi::Env env, Request* request) {
  napi_value error = nullptr;
  if (request->completion_error != 0) {
    error = OsErrorValue(env, request->completion_error, request->completion_syscall, path_);
  } else {
    try {
      error = request->Deliver(env);  // copies bounced data-in back; an error if the views went away
    } catch (const Napi::Error& e) {
      error = e.Value();
    }
  }
  stats_.bounced_bytes += request->bounced_bytes();
  return error;
}

void DeviceHandle::RejectAborted(Request* request, const std::string& why, napi_value reason) {
  Napi::Env env = Env();
  Unregister(request);
  if (request->deferred != nullptr) {
    napi_deferred deferred = request->deferred;
    request->deferred = nullptr;
    napi_reject_deferred(env, deferred, AbortedValue(env, Describe(request) + " (" + why + ")", reason));
  }
  if (request->state == RequestState::InKernel) {
    request->abandoned = true;  // the kernel still holds it: freed when it completes
  } else {
    Dispose(request);
  }
}

void DeviceHandle::OnQueueFailed(int err, const char* syscall) {
  Napi::Env env = Env();
  for (Request* request : queue_->TakeWaiting()) {
    request->completion_error = err;
    request->completion_syscall = syscall;
    Complete(request);
  }
  for (int i = 0; i < SgQueue::kSlots; i++) {
    Request* request = queue_->slot(i);
    if (request == nullptr || request->abandoned || request->deferred == nullptr) continue;
    // The kernel still holds it and it can no longer be read back: reject now, keep its
    // memory until the fd is closed (after which sg never copies into it again).
    Unregister(request);
    napi_deferred deferred = request->deferred;
    request->deferred = nullptr;
    request->abandoned = true;
    napi_reject_deferred(env, deferred, OsErrorValue(env, err, syscall, path_));
  }
}

void DeviceHandle::Enqueue(Request* request) {
  if (queue_) {
    queue_->Submit(&request, 1);
  } else {
    StartThreadJob(request);
  }
}

Napi::Value DeviceHandle::StartAsync(Napi::Env env, Request* request, double abort_id) {
  request->handle = this;
  // No promise yet: a command the device answers inside write() (sg, the drain right
  // after submission) is delivered here and the call returns undefined, which the
  // TypeScript layer turns into an already-resolved promise without allocating one.
  if (queue_start_error_ != 0) {
    request->completion_error = queue_start_error_;
    request->completion_syscall = "uv_poll_start";
    request->state = RequestState::Done;
  } else {
    Enqueue(request);
  }
  if (request->state == RequestState::Done) {
    napi_value outcome = Outcome(env, request);
    Dispose(request);
    AfterProgress();
    if (outcome == nullptr) return env.Undefined();
    napi_deferred deferred;
    napi_value promise;
    ThrowIfFailed(env, napi_create_promise(env, &deferred, &promise));
    napi_reject_deferred(env, deferred, outcome);
    return Napi::Value(env, promise);
  }
  // Still in flight when this call returns: its views need references from now on.
  request->Persist(env);
  napi_value promise;
  ThrowIfFailed(env, napi_create_promise(env, &request->deferred, &promise));
  if (abort_id != 0) {
    request->abort_id = abort_id;
    abortable_[abort_id] = request;
  }
  AfterProgress();
  return Napi::Value(env, promise);
}

void DeviceHandle::RunMany(Napi::Env env, Request* const* requests, const double* abort_ids, size_t count,
                           napi_value* promises) {
  std::vector<Request*> batch;
  batch.reserve(count);
  for (size_t i = 0; i < count; i++) {
    Request* request = requests[i];
    if (request == nullptr) continue;  // refused before submission; its promise is already made
    request->handle = this;
    request->Persist(env);  // a batch may outlive this call: references up front
    ThrowIfFailed(env, napi_create_promise(env, &request->deferred, &promises[i]));
    if (abort_ids != nullptr && abort_ids[i] != 0) {
      request->abort_id = abort_ids[i];
      abortable_[abort_ids[i]] = request;
    }
    batch.push_back(request);
  }
  if (queue_start_error_ != 0) {
    for (Request* request : batch) {
      request->completion_error = queue_start_error_;
      request->completion_syscall = "uv_poll_start";
      Complete(request);
    }
  } else if (queue_) {
    queue_->Submit(batch.data(), batch.size());  // one writev for the batch
  } else {
    for (Request* request : batch) StartThreadJob(request);
  }
  AfterProgress();
}

void DeviceHandle::StartThreadJob(Request* request) {
  int err = 0;
  std::shared_ptr<CompletionSink> sink = addon_->Sink(Env(), &err);
  if (!sink) {
    request->completion_error = err;
    request->completion_syscall = "uv_async_init";
    Complete(request);
    return;
  }
  auto* job = new BlockingJob();
  job->fd = fd_;
  job->kernel = std::move(request->kernel);
  job->sink = std::move(sink);
  job->owner = request;
  request->job = job;
  request->state = RequestState::InKernel;
  thread_jobs_.insert(request);
  if (refed_) addon_->AddRefedJobs(1);
  stats_.submitted++;
  stats_.ioctl_calls++;
  if (!BlockingPool::Instance().Submit(job, &err)) {
    request->kernel = std::move(job->kernel);
    delete job;
    request->job = nullptr;
    thread_jobs_.erase(request);
    if (refed_) addon_->AddRefedJobs(-1);
    stats_.submitted--;
    request->completion_error = err;
    request->completion_syscall = "pthread_create";
    Complete(request);
  }
}

void DeviceHandle::OnJobDone(BlockingJob* job) {
  auto* request = static_cast<Request*>(job->owner);
  request->kernel = std::move(job->kernel);
  if (job->error != 0) {
    request->completion_error = job->error;
    request->completion_syscall = "ioctl(SG_IO)";
  }
  request->job = nullptr;
  thread_jobs_.erase(request);
  if (refed_) addon_->AddRefedJobs(-1);
  delete job;
  stats_.completed++;
  Complete(request);
}

void DeviceHandle::RunSync(Napi::Env env, Request* request) {
  request->handle = this;
  if (queue_) {
    try {
      queue_->RunSync(env, request);
    } catch (...) {
      CompleteHeld();
      throw;
    }
  } else {
    // bsg, block and other nodes: SG_IO waits uninterruptibly in blk_execute_rq
    // (block/blk-mq.c), so a signal cannot make it return and be restarted.
    // An sg node opened read-only has no write()/read() queue: its SG_IO waits
    // interruptibly (sg_ioctl), so every signal that can be blocked is blocked for the
    // call; only SIGSTOP (job control, a debugger) can still interrupt it, and then the
    // kernel restarts the ioctl and sends the command again.
    sigset_t all, previous;
    const bool block_signals = kind_ == NodeKind::Sg;
    if (block_signals) {
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, &previous);
    }
    stats_.submitted++;
    stats_.ioctl_calls++;
    int result;
    do {
      result = ioctl(raw_fd_, SG_IO, request->kernel->ioctl_arg());
    } while (result < 0 && errno == EINTR);  // only before submission (blk_rq_map_user etc.)
    const int err = result < 0 ? errno : 0;
    if (block_signals) pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (err != 0) {
      request->completion_error = err;
      request->completion_syscall = "ioctl(SG_IO)";
    }
    stats_.completed++;
  }
  const int err = request->completion_error;
  const char* syscall = request->completion_syscall;
  request->completion_error = 0;
  request->completion_syscall = nullptr;
  request->state = RequestState::Idle;
  // Delivered before any held completion runs JavaScript (SgQueue::RunSync).
  napi_value error = err == 0 ? request->Deliver(env) : nullptr;
  stats_.bounced_bytes += request->bounced_bytes();
  CompleteHeld();
  AfterProgress();
  if (err != 0) throw OsError(env, err, syscall, path_);
  if (error != nullptr) throw Napi::Error(env, error);
}

void DeviceHandle::CompleteHeld() {
  if (!queue_) return;
  for (Request* held : queue_->TakeHeld()) Complete(held);
}

void DeviceHandle::AfterProgress() {
  if (closing_ && !fd_closed_ && close_deferred_ != nullptr && Pending() == 0) FinalizeClose();
  UpdateLoopRef();
  UpdatePin();
}

void DeviceHandle::UpdateLoopRef() {
  if (!queue_) return;
  const bool busy = !queue_->failed() && (queue_->in_kernel() > 0 || queue_->waiting() > 0);
  queue_->SetLoopRef(refed_ && busy);
}

void DeviceHandle::UpdatePin() {
  // Alive while the kernel holds requests, a mapping exists or a close is under way:
  // the JS object may be dropped meanwhile, the native side must not be.
  const bool want = !torn_down_ && (Pending() > 0 || mapping_ != nullptr ||
                                    (closing_ && !fd_closed_ && close_deferred_ != nullptr));
  if (want == pinned_) return;
  pinned_ = want;
  if (want) {
    ObjectWrap::Ref();
  } else {
    ObjectWrap::Unref();
  }
}

void DeviceHandle::CloseQueueAndFd() {
  std::vector<Request*> leftovers;
  if (queue_) {
    queue_->Shutdown(addon_);
    for (int i = 0; i < SgQueue::kSlots; i++) {
      if (Request* request = queue_->slot(i)) {
        leftovers.push_back(request);
        queue_->ClearSlot(i);
      }
    }
  }
  fd_.reset();  // closes the fd, unless pool threads still hold it (teardown)
  fd_closed_ = true;
  // After close() sg never copies into these requests' memory again: a request finished
  // from sg_remove_sfp_usercontext runs in a workqueue without the process's mm, and
  // bio_uncopy_user (block/blk-map.c) then skips the copy. Direct IO pages stay pinned by
  // the bio until it completes, whatever happens to our mapping.
  for (Request* request : leftovers) {
    // Not back to the bounce pool: with direct IO the device may still write into the
    // block's pages (pinned by the bio until it completes), so no other request may get
    // them. Dropping our reference unmaps them; pinned pages live on until the bio ends.
    if (request->kernel) request->kernel->bounce.reset();
    Dispose(request);
  }
}

void DeviceHandle::FinalizeClose() {
  if (fd_closed_) return;
  CloseQueueAndFd();
  if (close_deferred_ != nullptr) {
    Napi::Env env = Env();
    napi_deferred deferred = close_deferred_;
    close_deferred_ = nullptr;
    napi_resolve_deferred(env, deferred, env.Undefined());
  }
}

void DeviceHandle::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  closing_ = true;
  // JS cannot run any more: no promise is settled, nothing waits for the kernel.
  if (mapping_) {
    mapping_->Unmap(false);
    mapping_.reset();
  }
  for (Request* request : thread_jobs_) {
    auto* job = static_cast<BlockingJob*>(request->job);
    // Not started: nothing reached the kernel, free it now. Started: the pool thread
    // frees its kernel part when SG_IO returns (the sink is dead by then).
    if (job != nullptr && BlockingPool::Instance().Cancel(job)) delete job;
    request->job = nullptr;
    request->deferred = nullptr;
    request->state = RequestState::Idle;
    Dispose(request);
  }
  thread_jobs_.clear();
  if (queue_) {
    for (Request* request : queue_->TakeWaiting()) {
      request->deferred = nullptr;
      Dispose(request);
    }
    for (int i = 0; i < SgQueue::kSlots; i++) {
      if (Request* request = queue_->slot(i)) request->deferred = nullptr;
    }
  }
  CloseQueueAndFd();
  abortable_.clear();
  if (close_deferred_ != nullptr) close_deferred_ = nullptr;
  if (close_promise_ != nullptr) {
    napi_delete_reference(Env(), close_promise_);
    close_promise_ = nullptr;
  }
  if (pinned_) {
    pinned_ = false;
    ObjectWrap::Unref();
  }
}

// ---------------------------------------------------------------------------------------
// JS methods

Napi::Value DeviceHandle::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (close_promise_ != nullptr) {
    napi_value promise;
    ThrowIfFailed(env, napi_get_reference_value(env, close_promise_, &promise));
    return Napi::Value(env, promise);  // a second close() is a no-op
  }
  if (torn_down_) {
    napi_deferred deferred;
    napi_value promise;
    ThrowIfFailed(env, napi_create_promise(env, &deferred, &promise));
    napi_resolve_deferred(env, deferred, env.Undefined());
    return Napi::Value(env, promise);
  }
  const bool abandon = info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  closing_ = true;
  napi_value promise;
  ThrowIfFailed(env, napi_create_promise(env, &close_deferred_, &promise));
  ThrowIfFailed(env, napi_create_reference(env, promise, 1, &close_promise_));
  if (mapping_) {
    mapping_->Unmap(true);
    mapping_.reset();
  }
  if (queue_) {
    for (Request* request : queue_->TakeWaiting()) RejectAborted(request, "never sent: the handle was closed", nullptr);
  }
  if (abandon) {
    std::vector<Request*> in_kernel(thread_jobs_.begin(), thread_jobs_.end());
    if (queue_) {
      for (int i = 0; i < SgQueue::kSlots; i++) {
        if (Request* request = queue_->slot(i)) in_kernel.push_back(request);
      }
    }
    for (Request* request : in_kernel) {
      if (request->abandoned || request->deferred == nullptr) continue;
      auto* job = static_cast<BlockingJob*>(request->job);
      if (job != nullptr && BlockingPool::Instance().Cancel(job)) {
        request->kernel = std::move(job->kernel);
        delete job;
        request->job = nullptr;
        thread_jobs_.erase(request);
        if (refed_) addon_->AddRefedJobs(-1);
        request->state = RequestState::Idle;
        RejectAborted(request, "never sent: the handle was closed", nullptr);
        continue;
      }
      RejectAborted(request,
                    "abandoned by close(): it was already in the kernel, which cannot abort it in Linux 6.1; "
                    "its buffers stay held until the kernel completes it",
                    nullptr);
    }
  }
  AfterProgress();
  return Napi::Value(env, promise);
}

Napi::Value DeviceHandle::Abandon(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double id = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  auto found = abortable_.find(id);
  if (found == abortable_.end()) return Napi::Boolean::New(env, false);
  Request* request = found->second;
  napi_value reason = info.Length() > 1 ? static_cast<napi_value>(info[1]) : nullptr;
  if (request->state == RequestState::Waiting && queue_ && queue_->RemoveWaiting(request)) {
    RejectAborted(request, "aborted before it was sent: it was still queued in the library", reason);
  } else if (auto* job = static_cast<BlockingJob*>(request->job);
             job != nullptr && BlockingPool::Instance().Cancel(job)) {
    request->kernel = std::move(job->kernel);
    delete job;
    request->job = nullptr;
    thread_jobs_.erase(request);
    if (refed_) addon_->AddRefedJobs(-1);
    request->state = RequestState::Idle;
    stats_.submitted--;
    RejectAborted(request, "aborted before it was sent: no thread had started it", reason);
  } else if (request->state == RequestState::InKernel) {
    RejectAborted(request,
                  "abandoned: it was already in the kernel, which cannot abort it in Linux 6.1; "
                  "its buffers stay held until the kernel completes it",
                  reason);
  }
  AfterProgress();
  return Napi::Boolean::New(env, true);
}

Napi::Value DeviceHandle::GetKind(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), KindName(kind_)); }
Napi::Value DeviceHandle::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), closing_ ? -1 : raw_fd_);
}
Napi::Value DeviceHandle::GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closing_); }

Napi::Value DeviceHandle::GetInFlight(const Napi::CallbackInfo& info) {
  size_t in_flight = thread_jobs_.size();
  if (queue_ && !fd_closed_) in_flight += static_cast<size_t>(queue_->in_kernel()) + queue_->waiting();
  return Napi::Number::New(info.Env(), static_cast<double>(in_flight));
}

Napi::Value DeviceHandle::GetFailure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (queue_ && queue_->failed()) return OsError(env, queue_->fail_errno(), queue_->fail_syscall(), path_).Value();
  if (queue_start_error_ != 0) return OsError(env, queue_start_error_, "uv_poll_start", path_).Value();
  return env.Undefined();
}

Napi::Value DeviceHandle::GetCapabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const bool queue = queue_ != nullptr;
  out.Set("abi", kind_ == NodeKind::Bsg ? "v4" : "v3");
  out.Set("asyncQueue", queue);
  out.Set("kernelQueueDepth", queue ? SgQueue::kSlots : BlockingPool::kMaxThreads);
  out.Set("iovec", kind_ != NodeKind::Bsg);
  out.Set("mmapReserve", kind_ == NodeKind::Sg);
  out.Set("batchedSubmit", queue);
  return out;
}

Napi::Value DeviceHandle::Stats(const Napi::CallbackInfo& info) { return stats_.ToJs(info.Env()); }

namespace {

/** A one-off request taken from a handle's spares, given back however the call ends. */
class Scratch {
 public:
  Scratch(DeviceHandle* handle, Request* request) : handle_(handle), request_(request) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (request_ != nullptr) handle_->ReturnScratch(request_);
  }
  Request* get() const { return request_; }
  /** The handle owns it from now on (it was submitted). */
  Request* release() {
    Request* r = request_;
    request_ = nullptr;
    return r;
  }

 private:
  DeviceHandle* handle_;
  Request* request_;
};

}  // namespace

Napi::Value DeviceHandle::SgIoSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, queue_ ? "write" : "ioctl(SG_IO)");
  napi_value args[5] = {info[0], info[1], info[2], info[3], info[4]};
  Scratch request(this, TakeRequest());
  request.get()->Prepare(env, RequestValues::Collect(env, args), kind_, Mode::Sync, addon_->bounce_pool, false);
  try {
    RunSync(env, request.get());
  } catch (...) {
    // Abandoned in a slot of a failed sg queue: the kernel still holds it, and the handle
    // disposes of it when the fd closes (CloseQueueAndFd); it is not a spare before then.
    if (request.get()->slot >= 0) request.release();
    throw;
  }
  return env.Undefined();
}

Napi::Value DeviceHandle::SgIo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, queue_ ? "write" : "ioctl(SG_IO)");
  napi_value args[5] = {info[0], info[1], info[2], info[3], info[4]};
  const double abort_id = info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : 0;
  Scratch request(this, TakeRequest());
  request.get()->Prepare(env, RequestValues::Collect(env, args), kind_, AsyncMode(), addon_->bounce_pool, false);
  return StartAsync(env, request.release(), abort_id);
}

Napi::Value DeviceHandle::SubmitMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, queue_ ? "writev" : "ioctl(SG_IO)");
  if (!info[0].IsArray()) throw WrongType(env, "requests", "an array of [header, cdb, sense, dataOut, dataIn]");
  Napi::Array flat = info[0].As<Napi::Array>();
  const uint32_t length = flat.Length();
  if (length % 5 != 0) throw InvalidField(env, "requests", "must hold 5 values per request", length);
  const size_t count = length / 5;
  std::vector<double> abort_ids(count, 0);
  if (info[1].IsArray()) {
    Napi::Array ids = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < count && i < ids.Length(); i++) {
      Napi::Value id = ids.Get(i);
      if (id.IsNumber()) abort_ids[i] = id.As<Napi::Number>().DoubleValue();
    }
  }
  std::vector<Request*> requests(count, nullptr);
  std::vector<napi_value> promises(count, nullptr);
  // Every value of every request first: reading an array element can run JavaScript (an
  // accessor), which must not run once any request of the batch holds pointers into JS
  // buffers (it could detach one before the batch is written).
  std::vector<RequestValues> values(count);
  std::vector<napi_value> collect_errors(count, nullptr);
  for (size_t i = 0; i < count; i++) {
    napi_value args[5];
    for (uint32_t j = 0; j < 5; j++) args[j] = flat.Get(static_cast<uint32_t>(i * 5 + j));
    try {
      values[i] = RequestValues::Collect(env, args);
    } catch (const Napi::Error& e) {
      collect_errors[i] = e.Value();
    }
  }
  for (size_t i = 0; i < count; i++) {
    Scratch request(this, TakeRequest());
    try {
      if (collect_errors[i] != nullptr) throw Napi::Error(env, collect_errors[i]);
      request.get()->Prepare(env, values[i], kind_, AsyncMode(), addon_->bounce_pool, false);
      requests[i] = request.release();
    } catch (const Napi::Error& e) {
      // This request is refused on its own; the others still go in one batch.
      napi_deferred deferred;
      ThrowIfFailed(env, napi_create_promise(env, &deferred, &promises[i]));
      napi_reject_deferred(env, deferred, e.Value());
    }
  }
  RunMany(env, requests.data(), abort_ids.data(), count, promises.data());
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; i++) out.Set(static_cast<uint32_t>(i), Napi::Value(env, promises[i]));
  return out;
}

Napi::Value DeviceHandle::Prepare(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, queue_ ? "write" : "ioctl(SG_IO)");
  napi_value args[5] = {info[0], info[1], info[2], info[3], info[4]};
  std::unique_ptr<Request> request = Request::FromJs(env, args, kind_, AsyncMode(), addon_->bounce_pool, true);
  Napi::External<Request> external = Napi::External<Request>::New(env, request.get());
  Napi::Object command = addon_->command_constructor.New({Value(), external});
  request.release();  // owned by the NativeCommand now
  return command;
}

Napi::Value DeviceHandle::RunManyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckUsable(env, queue_ ? "writev" : "ioctl(SG_IO)");
  if (!info[0].IsArray()) throw WrongType(env, "commands", "an array of prepared commands");
  Napi::Array commands = info[0].As<Napi::Array>();
  const uint32_t count = commands.Length();
  std::vector<double> abort_ids(count, 0);
  if (info[1].IsArray()) {
    Napi::Array ids = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < count && i < ids.Length(); i++) {
      Napi::Value id = ids.Get(i);
      if (id.IsNumber()) abort_ids[i] = id.As<Napi::Number>().DoubleValue();
    }
  }
  std::vector<Request*> requests(count, nullptr);
  std::vector<napi_value> promises(count, nullptr);
  Napi::Function command_class = addon_->command_constructor.Value();
  // Every element read and checked first: reading one, or instanceof on a Proxy, can run
  // JavaScript, which must not run once a command of the batch has taken pointers into its
  // JS buffers (BeginAsyncRun re-reads them): it could detach one before the batch is written.
  std::vector<NativeCommand*> found(count, nullptr);
  std::vector<napi_value> errors(count, nullptr);
  for (uint32_t i = 0; i < count; i++) {
    try {
      Napi::Value value = commands.Get(i);
      if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(command_class)) {
        throw WrongType(env, "commands[" + std::to_string(i) + "]", "a prepared command");
      }
      found[i] = Napi::ObjectWrap<NativeCommand>::Unwrap(value.As<Napi::Object>());
      if (found[i] == nullptr) throw WrongType(env, "commands[" + std::to_string(i) + "]", "a prepared command");
    } catch (const Napi::Error& e) {
      errors[i] = e.Value();
    }
  }
  for (uint32_t i = 0; i < count; i++) {
    try {
      if (errors[i] != nullptr) throw Napi::Error(env, errors[i]);
      NativeCommand* command = found[i];
      Request* request = command->BeginAsyncRun(env);
      if (request->handle != this) {
        command->RunFinished();
        throw InvalidField(env, "commands[" + std::to_string(i) + "]", "was prepared on another handle", i);
      }
      requests[i] = request;
    } catch (const Napi::Error& e) {
      napi_deferred deferred;
      ThrowIfFailed(env, napi_create_promise(env, &deferred, &promises[i]));
      napi_reject_deferred(env, deferred, e.Value());
    }
  }
  RunMany(env, requests.data(), abort_ids.data(), count, promises.data());
  Napi::Array out = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) out.Set(i, Napi::Value(env, promises[i]));
  return out;
}

Napi::Value DeviceHandle::IoctlGetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  unsigned long request = static_cast<unsigned long>(IntegerArg(info, 0, "request", 0, 0xffffffffLL));
  if (!IsGetIntIoctl(request)) {
    throw InvalidField(env, "request", "not one of the supported int-returning sg ioctls", static_cast<double>(request));
  }
  int value = 0;
  if (ioctl(raw_fd_, request, &value) < 0) throw OsError(env, errno, IoctlName(request), path_);
  return Napi::Number::New(env, value);
}

Napi::Value DeviceHandle::IoctlSetInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  unsigned long request = static_cast<unsigned long>(IntegerArg(info, 0, "request", 0, 0xffffffffLL));
  if (!IsSetIntIoctl(request)) {
    throw InvalidField(env, "request", "not one of the supported int-taking sg ioctls", static_cast<double>(request));
  }
  int value = static_cast<int>(IntegerArg(info, 1, "value", INT32_MIN, INT32_MAX));
  if (ioctl(raw_fd_, request, &value) < 0) throw OsError(env, errno, IoctlName(request), path_);
  return env.Undefined();
}

Napi::Value DeviceHandle::ScsiResetAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl(SG_SCSI_RESET)");
  int value = static_cast<int>(IntegerArg(info, 0, "value", INT32_MIN, INT32_MAX));
  int fd = fcntl(raw_fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) throw OsError(env, errno, "fcntl(F_DUPFD_CLOEXEC)", path_);
  auto* worker = new ScsiResetWorker(env, fd, value, path_);  // deletes itself after OnOK/OnError
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value DeviceHandle::GetTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  // SG_GET_TIMEOUT returns the timeout (USER_HZ ticks) as the ioctl's result (sg.c, scsi_ioctl.c, bsg.c).
  int result = ioctl(raw_fd_, SG_GET_TIMEOUT, nullptr);
  if (result < 0) throw OsError(env, errno, "ioctl(SG_GET_TIMEOUT)", path_);
  return Napi::Number::New(env, result);
}

Napi::Value DeviceHandle::GetScsiId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(env, "ioctl");
  sg_scsi_id id{};
  if (ioctl(raw_fd_, SG_GET_SCSI_ID, &id) < 0) throw OsError(env, errno, "ioctl(SG_GET_SCSI_ID)", path_);
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
  if (ioctl(raw_fd_, SG_GET_REQUEST_TABLE, table) < 0) throw OsError(env, errno, "ioctl(SG_GET_REQUEST_TABLE)", path_);
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
  if (ioctl(raw_fd_, BLKSECTGET, &value) < 0) throw OsError(env, errno, "ioctl(BLKSECTGET)", path_);
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
  if (mapping_) {
    throw InvalidField(env, "length", "the reserved buffer is already mapped on this handle; unmap it first",
                       static_cast<double>(length));
  }
  int err = 0;
  mapping_ = ReservedMapping::Map(env, raw_fd_, static_cast<size_t>(length), &err);
  if (!mapping_) throw OsError(env, err, "mmap", path_);
  UpdatePin();
  return mapping_->buffer();
}

Napi::Value DeviceHandle::UnmapReservedBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!mapping_) return Napi::Boolean::New(env, false);
  mapping_->Unmap(true);
  mapping_.reset();
  UpdatePin();
  return Napi::Boolean::New(env, true);
}

Napi::Value DeviceHandle::Ref(const Napi::CallbackInfo& info) {
  if (!refed_) {
    refed_ = true;
    addon_->AddRefedJobs(static_cast<int>(thread_jobs_.size()));
    UpdateLoopRef();
  }
  return info.This();
}

Napi::Value DeviceHandle::Unref(const Napi::CallbackInfo& info) {
  if (refed_) {
    refed_ = false;
    addon_->AddRefedJobs(-static_cast<int>(thread_jobs_.size()));
    UpdateLoopRef();
  }
  return info.This();
}

}  // namespace sgv4
