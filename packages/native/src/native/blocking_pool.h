// Blocking SG_IO (bsg, block devices, and any node that is not sg) on the addon's own
// threads, with completions handed back to the JS thread of the environment that
// submitted them.
//
// Why not napi_async_work (the libuv threadpool): Node's environment teardown waits for
// every queued threadpool request (Environment::CleanupHandles spins the loop while
// request_waiting_ != 0), so worker.terminate() would wait for a stuck SCSI command's
// timeout; and four threadpool threads blocked in SG_IO would stall fs and dns. Here an
// environment that goes away only marks its sink dead: a thread that returns from the
// ioctl afterwards frees the kernel-side memory itself and never touches the
// environment.
//
// The bsg and block-device SG_IO paths wait uninterruptibly (blk_execute_rq ->
// wait_for_completion_io in block/blk-mq.c, called from scsi_bsg_sg_io_fn and
// drivers/scsi/scsi_ioctl.c sg_io), so a signal can never make the ioctl return early
// and be restarted: each command is issued once. The threads block every signal anyway.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "libuv_abi.h"

namespace sgv4 {

struct KernelPart;
class CompletionSink;

/** An fd shared by a handle and its blocking jobs; closed when the last holder lets go. */
class SharedFd {
 public:
  explicit SharedFd(int fd) : fd_(fd) {}
  SharedFd(const SharedFd&) = delete;
  SharedFd& operator=(const SharedFd&) = delete;
  ~SharedFd();
  int fd() const { return fd_; }

 private:
  int fd_;
};

/** One SG_IO on a pool thread. Owned by the pool while queued or running, then by the sink. */
struct BlockingJob {
  std::shared_ptr<SharedFd> fd;
  std::unique_ptr<KernelPart> kernel;  // what the ioctl reads and writes (native memory only)
  std::shared_ptr<CompletionSink> sink;
  void* owner = nullptr;  // the JS-side request (only ever dereferenced on the JS thread)
  int error = 0;          // errno of the ioctl, 0 on success
  bool started = false;   // taken by a thread (under the pool lock)
};

/** The process-wide pool. Threads are started on demand (up to kMaxThreads) and kept. */
class BlockingPool {
 public:
  static constexpr int kMaxThreads = 128;
  static BlockingPool& Instance();

  /** Queues the job; returns false (job not taken) when no thread could be started at all. */
  bool Submit(BlockingJob* job, int* err);
  /** Removes a job no thread has started yet; true when it was removed (the caller owns it again). */
  bool Cancel(BlockingJob* job);

 private:
  BlockingPool() = default;
  static void* ThreadMain(void* arg);
  void Run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<BlockingJob*> queue_;
  int threads_ = 0;
  int idle_ = 0;
};

/**
 * Per environment: finished jobs, and a uv_async_t that wakes the JS thread for them.
 * Shared by the Addon and every job in flight; Kill() (environment teardown) makes
 * later deliveries free the kernel-side memory on the pool thread instead.
 */
class CompletionSink : public std::enable_shared_from_this<CompletionSink> {
 public:
  using Deliver = void (*)(void* context, std::vector<BlockingJob*>& jobs);

  /** `deliver` runs on the JS thread with the finished jobs, from the uv_async callback. */
  CompletionSink(uv_loop_t* loop, Deliver deliver, void* context, int* err);
  CompletionSink(const CompletionSink&) = delete;
  CompletionSink& operator=(const CompletionSink&) = delete;

  /** Pool thread: hands the finished job over (or frees it when the environment is gone). */
  void Finish(BlockingJob* job);
  /** JS thread: keeps the loop alive while `refed_jobs` > 0. */
  void SetRefed(bool refed);
  /**
   * Teardown on the JS thread: no more deliveries (later ones free the job on its pool
   * thread), undelivered jobs are freed, the async handle is closed; `closed(data)` runs
   * from its close callback.
   */
  void Kill(void (*closed)(void* data), void* data);
  /** Wake-ups of the async handle that delivered at least one job. */
  uint64_t wakeups() const { return wakeups_; }

 private:
  static void OnAsync(uv_async_t* async);
  void DeliverAll();

  std::mutex mutex_;
  bool alive_ = true;
  std::vector<BlockingJob*> done_;
  uv::HandleStorage* async_ = nullptr;  // freed in its close callback
  Deliver deliver_;
  void* context_;
  bool refed_ = true;
  uint64_t wakeups_ = 0;
};

}  // namespace sgv4
