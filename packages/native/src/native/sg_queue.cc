#include "sg_queue.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "addon.h"
#include "device_handle.h"
#include "js_errors.h"

namespace sgv4 {

namespace {

constexpr size_t kHeaderSize = sizeof(sg_io_hdr);

struct PollClose {
  uv::HandleStorage* storage;
  Addon* addon;
};

}  // namespace

SgQueue::SgQueue(DeviceHandle* owner, int fd) : owner_(owner), fd_(fd) {
  for (int i = 0; i < kSlots; i++) reply_iov_[i] = iovec{&replies_[i], kHeaderSize};
}

SgQueue::~SgQueue() {
  // Shutdown() must have run (the poll handle needs the loop to close).
  if (poll_ != nullptr) uv::HandleData(poll_) = nullptr;
}

int SgQueue::Start(uv_loop_t* loop) {
  poll_ = new uv::HandleStorage();
  auto* poll = reinterpret_cast<uv_poll_t*>(poll_);
  int err = uv_poll_init(loop, poll, fd_);
  if (err == 0) {
    uv::HandleData(poll) = this;
    err = uv_poll_start(poll, uv::kReadable, OnPoll);
    if (err == 0) {
      // Idle: the poll handle must not keep the process alive (ref'd only while requests are pending).
      uv_unref(reinterpret_cast<uv_handle_t*>(poll));
      return 0;
    }
    // Started handles need uv_close; an initialised one too. The caller shuts us down.
    return err;
  }
  delete poll_;
  poll_ = nullptr;
  return err;
}

void SgQueue::Shutdown(Addon* addon) {
  if (poll_ == nullptr) return;
  auto* handle = reinterpret_cast<uv_handle_t*>(poll_);
  uv::HandleData(handle) = new PollClose{poll_, addon};
  poll_ = nullptr;
  addon->BeginHandleClose();
  // uv_close stops the poll (uv__poll_stop removes the fd from epoll at once), so the fd
  // can be closed right after this call.
  uv_close(handle, [](uv_handle_t* h) {
    auto* close = static_cast<PollClose*>(uv::HandleData(h));
    delete close->storage;
    Addon* addon = close->addon;
    delete close;
    addon->EndHandleClose();
  });
}

void SgQueue::SetLoopRef(bool refed) {
  if (poll_ == nullptr || refed == loop_refed_) return;
  loop_refed_ = refed;
  auto* handle = reinterpret_cast<uv_handle_t*>(poll_);
  if (refed) {
    uv_ref(handle);
  } else {
    uv_unref(handle);
  }
}

void SgQueue::Fail(int err, const char* syscall) {
  if (fail_errno_ != 0) return;
  fail_errno_ = err != 0 ? err : EIO;
  fail_syscall_ = syscall;
  if (poll_ != nullptr) uv_poll_stop(reinterpret_cast<uv_poll_t*>(poll_));
  owner_->OnQueueFailed(fail_errno_, syscall);
}

void SgQueue::Submit(Request* const* requests, size_t count) {
  const size_t free_slots = in_kernel_ < window_ ? static_cast<size_t>(window_ - in_kernel_) : 0;
  for (size_t i = 0; i < count; i++) {
    // Counted when it cannot go to the kernel right away (all 16 slots taken).
    if (waiting_.size() >= free_slots) owner_->stats().library_queued++;
    requests[i]->state = RequestState::Waiting;
    waiting_.push_back(requests[i]);
  }
  Pump();
}

bool SgQueue::RemoveWaiting(Request* request) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (*it == request) {
      waiting_.erase(it);
      request->state = RequestState::Idle;
      return true;
    }
  }
  return false;
}

std::deque<Request*> SgQueue::TakeWaiting() {
  std::deque<Request*> taken;
  taken.swap(waiting_);
  return taken;
}

void SgQueue::ClearSlot(int i) {
  if (slots_[i] != nullptr) {
    slots_[i]->slot = -1;
    slots_[i] = nullptr;
    in_kernel_--;
  }
}

void SgQueue::Assign(Request* request) {
  for (int i = 0; i < kSlots; i++) {
    if (slots_[i] == nullptr) {
      slots_[i] = request;
      request->slot = i;
      // The addon's pack_id: read() reports it back, so the reply finds its request.
      request->kernel->v3.pack_id = i;
      request->state = RequestState::InKernel;
      in_kernel_++;
      return;
    }
  }
}

void SgQueue::Unassign(Request* request) {
  if (request->slot >= 0) ClearSlot(request->slot);
  request->state = RequestState::Idle;
}

void SgQueue::Pump() {
  if (pumping_) return;  // a completion inside Write/Drain: the running loop picks it up
  pumping_ = true;
  for (;;) {
    if (failed() || waiting_.empty() || in_kernel_ >= window_) break;
    Request* batch[kSlots];
    size_t n = 0;
    while (n < static_cast<size_t>(window_ - in_kernel_) && !waiting_.empty()) {
      Request* request = waiting_.front();
      waiting_.pop_front();
      Assign(request);
      batch[n++] = request;
    }
    const size_t accepted = Write(batch, n);
    if (accepted == 0) break;
    const int got = Drain();
    if (got > 0) owner_->stats().immediate_completions += static_cast<uint64_t>(got);
  }
  pumping_ = false;
}

size_t SgQueue::Write(Request* const* batch, size_t count) {
  HandleStats& stats = owner_->stats();
  size_t done = 0;
  size_t accepted = 0;
  iovec iov[kSlots];
  while (done < count) {
    ssize_t written;
    const size_t left = count - done;
    if (left == 1) {
      stats.write_calls++;
      written = write(fd_, &batch[done]->kernel->v3, kHeaderSize);
    } else {
      for (size_t i = 0; i < left; i++) iov[i] = iovec{&batch[done + i]->kernel->v3, kHeaderSize};
      stats.writev_calls++;
      written = writev(fd_, iov, static_cast<int>(left));
    }
    // EINTR: sg_write returned before queueing anything (it never sleeps after
    // blk_execute_rq_nowait), so sending again sends the command once.
    if (written < 0 && errno == EINTR) continue;
    int err = 0;
    if (written >= 0) {
      const size_t whole = static_cast<size_t>(written) / kHeaderSize;
      done += whole;
      accepted += whole;
      stats.submitted += whole;
      if (done == count) break;
      // A short count: the entry at `done` failed. Send it alone to learn its errno.
      Request* failing = batch[done];
      stats.write_calls++;
      ssize_t again;
      do {
        again = write(fd_, &failing->kernel->v3, kHeaderSize);
      } while (again < 0 && errno == EINTR);
      if (again >= 0) {
        done++;
        accepted++;
        stats.submitted++;
        continue;
      }
      err = errno;
    } else {
      err = errno;
    }
    Request* failing = batch[done];
    if (err == EDOM && in_kernel_ > static_cast<int>(count - done)) {
      // The fd holds fewer requests than we counted on (command queueing off:
      // sg_add_request): put the rest back in order and wait for a completion.
      for (size_t i = count; i > done; i--) {
        Unassign(batch[i - 1]);
        batch[i - 1]->state = RequestState::Waiting;
        waiting_.push_front(batch[i - 1]);
      }
      window_ = in_kernel_ > 0 ? in_kernel_ : 1;
      return accepted;
    }
    Unassign(failing);
    failing->completion_error = err;
    failing->completion_syscall = "write";
    CompleteOrHold(failing);
    done++;
  }
  return accepted;
}

int SgQueue::Drain() {
  if (in_kernel_ == 0 || failed()) return 0;
  const int n = in_kernel_;
  for (int i = 0; i < n; i++) {
    // With SG_SET_FORCE_PACK_ID on, sg_read takes the wanted pack_id from the buffer:
    // from sg_io_hdr.pack_id when the old sg_header's reply_len (offset 4, our
    // dxfer_direction) is negative (get_sg_io_pack_id). -1 asks for any completed request.
    replies_[i].interface_id = 'S';
    replies_[i].dxfer_direction = SG_DXFER_NONE;
    replies_[i].pack_id = -1;
  }
  ssize_t got;
  do {
    owner_->stats().read_calls++;
    got = n == 1 ? read(fd_, &replies_[0], kHeaderSize) : readv(fd_, reply_iov_, n);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN) return 0;
    Fail(errno, "read");
    return 0;
  }
  const int m = static_cast<int>(static_cast<size_t>(got) / kHeaderSize);
  for (int i = 0; i < m; i++) Dispatch(replies_[i]);
  if (m > 0) window_ = kSlots;
  return m;
}

void SgQueue::Dispatch(const sg_io_hdr& reply) {
  const int slot = reply.pack_id;
  if (slot < 0 || slot >= kSlots || slots_[slot] == nullptr) return;  // not ours (cannot happen on a private fd)
  Request* request = slots_[slot];
  ClearSlot(slot);
  request->TakeV3Reply(reply);
  owner_->stats().completed++;
  CompleteOrHold(request);
}

void SgQueue::CompleteOrHold(Request* request) {
  if (sync_request_ != nullptr && request != sync_request_) {
    held_.push_back(request);
  } else {
    owner_->Complete(request);
  }
}

std::vector<Request*> SgQueue::TakeHeld() {
  std::vector<Request*> held;
  held.swap(held_);
  return held;
}

void SgQueue::WaitReadable() {
  pollfd p{fd_, POLLIN, 0};
  int n;
  do {
    owner_->stats().poll_calls++;
    n = poll(&p, 1, -1);
  } while (n < 0 && errno == EINTR);  // poll() is never restarted, and repeating it sends nothing
  if (n < 0) {
    Fail(errno, "poll");
  } else if ((p.revents & POLLIN) == 0) {
    // sg_poll: EPOLLHUP while the device is detaching; EPOLLERR without a file context.
    Fail((p.revents & POLLHUP) != 0 ? ENODEV : EIO, "poll");
  }
}

void SgQueue::CheckHangup() {
  pollfd p{fd_, POLLIN, 0};
  owner_->stats().poll_calls++;
  if (poll(&p, 1, 0) <= 0 || (p.revents & POLLIN) != 0) return;
  if ((p.revents & POLLHUP) != 0) {
    Fail(ENODEV, "poll");
  } else if ((p.revents & (POLLERR | POLLNVAL)) != 0) {
    Fail(EIO, "poll");
  }
}

void SgQueue::RunSync(Napi::Env env, Request* request) {
  sync_request_ = request;
  struct Clear {
    Request*& sync;
    ~Clear() { sync = nullptr; }
  } clear{sync_request_};
  auto check = [&] {
    if (failed()) throw OsError(env, fail_errno_, fail_syscall_, owner_->path());
  };
  check();
  for (;;) {
    // A slot first: wait for a completion while all of them are taken.
    while (in_kernel_ >= window_) {
      if (Drain() == 0) WaitReadable();
      check();
    }
    Assign(request);
    if (Write(&request, 1) == 1) break;
    if (request->state != RequestState::Waiting) return;  // refused: completion_error says why
    RemoveWaiting(request);  // EDOM with others in the kernel: the window shrank, wait for one
  }
  while (request->state == RequestState::InKernel) {
    if (Drain() == 0 && request->state == RequestState::InKernel) WaitReadable();
    if (failed() && request->state == RequestState::InKernel) {
      // Abandoned by the failure: it stays in its slot until the fd is closed.
      throw OsError(env, fail_errno_, fail_syscall_, owner_->path());
    }
  }
  Pump();  // slots freed while waiting may admit queued requests
}

void SgQueue::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* queue = static_cast<SgQueue*>(uv::HandleData(poll));
  if (queue == nullptr) return;
  DeviceHandle* owner = queue->owner_;
  Napi::Env env = owner->env();
  try {
    Napi::HandleScope handle_scope(env);
    // Promise reactions run when this scope closes, right after this uv callback.
    Napi::CallbackScope callback_scope(env, Addon::Of(env).async_context());
    if (status < 0) {
      queue->Fail(-status, "poll");
    } else {
      const int got = queue->Drain();
      if (got > 0) {
        owner->stats().loop_wakeups++;
      } else if (!queue->failed()) {
        queue->CheckHangup();
      }
      queue->Pump();
    }
    owner->AfterProgress();
  } catch (const Napi::Error&) {
    // Only when the environment is terminating: JS cannot run any more.
  }
}

}  // namespace sgv4
