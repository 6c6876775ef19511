// The sg driver's write()/read() interface on one fd (drivers/scsi/sg.c, Linux 6.1),
// used for every sg request, synchronous ones included:
//
// - submission: write() of a v3 sg_io_hdr (sg_write -> sg_new_write -> sg_common_write),
//   or one writev() for a batch: sg has no write_iter, so the VFS calls sg_write once per
//   iovec element and stops at the first failure (do_loop_readv_writev, fs/read_write.c);
// - completion: one uv_poll on the fd for the handle's life (sg_poll reports EPOLLIN
//   while a completed request is unread), drained with readv() of up to 16 replies; the
//   fd is O_NONBLOCK, so the drain stops at the first "nothing more" (-EAGAIN in sg_read);
// - a non-blocking drain right after each submission: a command the device answered
//   inside write() (scsi_debug delay=0, or a fast device) resolves without an event-loop
//   turn;
// - pack_id = slot number, 16 fixed slots (SG_MAX_QUEUE, the per-fd limit of
//   sg_add_request); more requests wait in a library queue, so EDOM never reaches JS.
//
// Why not SG_IO on sg: sg_ioctl(SG_IO) waits with wait_event_interruptible and returns
// -ERESTARTSYS on a signal, marking the request an orphan; with SA_RESTART handlers
// (libuv installs its signal handlers so) the ioctl is restarted and the command sent
// again while the first one still runs. write() never waits after queueing the command,
// read() with O_NONBLOCK never waits at all, and poll() is never restarted: each command
// is sent exactly once, however many signals arrive.
#pragma once

#include <napi.h>
#include <poll.h>
#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "libuv_abi.h"
#include "sg_io_request.h"

namespace sgv4 {

class DeviceHandle;
class Addon;

class SgQueue {
 public:
  static constexpr int kSlots = 16;  // SG_MAX_QUEUE (drivers/scsi/sg.c)

  SgQueue(DeviceHandle* owner, int fd);
  SgQueue(const SgQueue&) = delete;
  SgQueue& operator=(const SgQueue&) = delete;
  ~SgQueue();

  /** uv_poll_init + uv_poll_start (unreferenced until a request is pending); 0 or a negative uv error. */
  int Start(uv_loop_t* loop);

  /** Queues requests (in order) and writes as many as the kernel takes now. */
  void Submit(Request* const* requests, size_t count);
  /**
   * Runs one request to completion on the calling thread (write, then drain/poll). Throws.
   * Meanwhile other requests' completions are held (TakeHeld): completing one settles its
   * promise, which can run JavaScript (promise hooks, the error factories), and JavaScript
   * could free the JS memory this request uses in place before the kernel has written it.
   */
  void RunSync(Napi::Env env, Request* request);
  /** Completions held during RunSync, to complete once its request was delivered. */
  std::vector<Request*> TakeHeld();
  /** Takes a request out of the library queue; false when it is not waiting there. */
  bool RemoveWaiting(Request* request);
  /** Every request still waiting in the library queue (removed from it). */
  std::deque<Request*> TakeWaiting();
  /** Requests in the kernel (slots in use), abandoned ones included. */
  int in_kernel() const { return in_kernel_; }
  size_t waiting() const { return waiting_.size(); }
  /** The request in each slot (nullptr for free slots). */
  Request* slot(int i) const { return slots_[i]; }
  void ClearSlot(int i);
  bool failed() const { return fail_errno_ != 0; }
  int fail_errno() const { return fail_errno_; }
  const char* fail_syscall() const { return fail_syscall_; }
  /** Marks the queue unusable (poll stopped); the owner settles the requests. */
  void Fail(int err, const char* syscall);
  /** Keeps the event loop alive (uv_ref) or not. */
  void SetLoopRef(bool refed);
  /** uv_close of the poll handle; `addon` counts the close until its callback ran. */
  void Shutdown(Addon* addon);

 private:
  static void OnPoll(uv_poll_t* poll, int status, int events);
  void Pump();
  size_t Write(Request* const* batch, size_t count);
  int Drain();
  void Dispatch(const sg_io_hdr& reply);
  void Assign(Request* request);
  void Unassign(Request* request);
  void WaitReadable();
  void CheckHangup();

  DeviceHandle* owner_;
  int fd_;
  uv::HandleStorage* poll_ = nullptr;
  bool loop_refed_ = false;
  Request* slots_[kSlots] = {};
  int in_kernel_ = 0;
  int window_ = kSlots;
  std::deque<Request*> waiting_;
  sg_io_hdr replies_[kSlots];
  iovec reply_iov_[kSlots];
  int fail_errno_ = 0;
  const char* fail_syscall_ = nullptr;
  bool pumping_ = false;
  Request* sync_request_ = nullptr;  // RunSync's request while it runs
  std::vector<Request*> held_;       // other requests completed meanwhile

  /** Completes `request`, or holds it while RunSync runs another one. */
  void CompleteOrHold(Request* request);
};

}  // namespace sgv4
