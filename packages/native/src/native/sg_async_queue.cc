#include "sg_async_queue.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "device_handle.h"
#include "js_errors.h"

namespace sgv4 {

SgAsyncQueue::SgAsyncQueue(Napi::Env env, DeviceHandle* owner)
    : env_(env), owner_(owner), context_(env, "sgv4:sg-async-queue") {}

SgAsyncQueue::~SgAsyncQueue() { Shutdown(); }

Napi::Value SgAsyncQueue::Submit(Napi::Env env, std::unique_ptr<PreparedRequest> request) {
  const int32_t pack_id = request->pack_id();
  if (pending_.count(pack_id) != 0) {
    throw InvalidField(env, "request_extra", "pack_id must be unique among the requests in flight on this fd", pack_id);
  }
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  ssize_t written;
  do {
    written = write(owner_->fd(), request->v3(), sizeof(sg_io_hdr));
  } while (written < 0 && errno == EINTR);
  if (written < 0) {
    deferred.Reject(OsError(env, errno, "write", owner_->path()).Value());
    return deferred.Promise();
  }
  if (pending_.empty()) owner_->Pin();
  pending_.emplace(pack_id, Pending{std::move(request), deferred, false});
  StartPolling();
  return deferred.Promise();
}

void SgAsyncQueue::StartPolling() {
  if (polling_) return;
  if (poll_ == nullptr) {
    poll_ = static_cast<uv_poll_t*>(::operator new(uv_handle_size(uv::kHandleTypePoll)));
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env_, reinterpret_cast<struct uv_loop_s**>(&loop));
    if (uv_poll_init(loop, poll_, owner_->fd()) != 0) {
      ::operator delete(poll_);
      poll_ = nullptr;
      return;
    }
    uv::HandleData(poll_) = this;
  }
  uv_poll_start(poll_, uv::kReadable, OnPoll);
  polling_ = true;
  ApplyRef();
}

void SgAsyncQueue::StopPolling() {
  if (poll_ != nullptr && polling_) uv_poll_stop(poll_);
  polling_ = false;
}

void SgAsyncQueue::ApplyRef() {
  if (poll_ == nullptr) return;
  if (owner_->refed()) {
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
}

void SgAsyncQueue::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* queue = static_cast<SgAsyncQueue*>(uv::HandleData(poll));
  if (queue == nullptr) return;
  queue->DrainCompleted();
}

void SgAsyncQueue::DrainCompleted() {
  try {
    DrainCompletedInScope();
  } catch (const Napi::Error&) {
    // Only when the environment is terminating: JS cannot run any more.
  }
}

void SgAsyncQueue::DrainCompletedInScope() {
  Napi::HandleScope handle_scope(env_);
  // Resolving inside a callback scope runs the promise reactions right after this
  // uv callback, as for any other libuv-driven completion in Node.
  Napi::CallbackScope callback_scope(env_, context_);
  // SG_GET_NUM_WAITING counts completed, not-yet-read requests (not SG_IO-owned ones),
  // so each of those read()s returns at once even on a blocking fd.
  int waiting = 0;
  if (ioctl(owner_->fd(), SG_GET_NUM_WAITING, &waiting) < 0) waiting = 0;
  for (int i = 0; i < waiting; i++) {
    sg_io_hdr reply{};
    reply.interface_id = 'S';
    // With SG_SET_FORCE_PACK_ID=1, sg_read() takes the wanted pack_id from the buffer:
    // from sg_io_hdr.pack_id only when the old sg_header's reply_len (offset 4, our
    // dxfer_direction) is negative, else from sg_header.pack_id (offset 8, i.e. cmd_len..).
    // A negative direction and pack_id -1 ask for any completed request.
    reply.dxfer_direction = SG_DXFER_NONE;
    reply.pack_id = -1;
    ssize_t got;
    do {
      got = read(owner_->fd(), &reply, sizeof reply);
    } while (got < 0 && errno == EINTR);
    if (got < 0) break;
    auto found = pending_.find(reply.pack_id);
    if (found == pending_.end()) continue;  // a request written by someone else on this fd
    Pending done = std::move(found->second);
    pending_.erase(found);
    if (done.canceled) continue;  // close() already rejected it; its buffers are now free
    done.request->TakeV3Reply(reply);
    done.request->WriteBack();
    done.deferred.Resolve(env_.Undefined());
  }
  if (pending_.empty()) {
    StopPolling();
    owner_->Unpin();
    owner_->MaybeReleaseFd();
  }
}

void SgAsyncQueue::CancelAll(Napi::Env env) {
  for (auto& entry : pending_) {
    if (entry.second.canceled) continue;
    entry.second.canceled = true;
    entry.second.deferred.Reject(Aborted(env, "in-flight request (handle closed)").Value());
  }
}

void SgAsyncQueue::Shutdown() {
  if (poll_ != nullptr) {
    StopPolling();
    uv::HandleData(poll_) = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* handle) { ::operator delete(handle); });
    poll_ = nullptr;
  }
  pending_.clear();
}

}  // namespace sgv4
