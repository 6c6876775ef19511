#include "blocking_pool.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "blocked_thread.h"
#include "sg_io_request.h"

namespace sgv4 {

SharedFd::~SharedFd() {
  if (fd_ >= 0) close(fd_);
}

BlockingPool& BlockingPool::Instance() {
  // Never destroyed: its threads may still be blocked in an ioctl at process exit.
  static BlockingPool* pool = new BlockingPool();
  return *pool;
}

bool BlockingPool::Submit(BlockingJob* job, int* err) {
  std::unique_lock<std::mutex> lock(mutex_);
  queue_.push_back(job);
  if (idle_ >= static_cast<int>(queue_.size()) || threads_ >= kMaxThreads) {
    ready_.notify_one();
    return true;
  }
  const int result = StartBlockedThread(ThreadMain, this);
  if (result == 0) {
    threads_++;
    return true;
  }
  if (threads_ > 0) {
    ready_.notify_one();  // an existing thread will get to it
    return true;
  }
  queue_.pop_back();
  *err = result;
  return false;
}

bool BlockingPool::Cancel(BlockingJob* job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (job->started) return false;
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (*it == job) {
      queue_.erase(it);
      return true;
    }
  }
  return false;
}

void* BlockingPool::ThreadMain(void* arg) {
  static_cast<BlockingPool*>(arg)->Run();
  return nullptr;
}

void BlockingPool::Run() {
  for (;;) {
    BlockingJob* job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      idle_++;
      ready_.wait(lock, [this] { return !queue_.empty(); });
      idle_--;
      job = queue_.front();
      queue_.pop_front();
      job->started = true;
    }
    // The ioctl reads and writes only job->kernel (native memory owned by the job).
    if (ioctl(job->fd->fd(), SG_IO, job->kernel->ioctl_arg()) < 0) job->error = errno;
    std::shared_ptr<CompletionSink> sink = std::move(job->sink);
    sink->Finish(job);
  }
}

CompletionSink::CompletionSink(uv_loop_t* loop, Deliver deliver, void* context, int* err)
    : deliver_(deliver), context_(context) {
  async_ = new uv::HandleStorage();
  auto* async = reinterpret_cast<uv_async_t*>(async_);
  *err = uv_async_init(loop, async, OnAsync);
  if (*err != 0) {
    delete async_;
    async_ = nullptr;
    return;
  }
  uv::HandleData(async) = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async));
  refed_ = false;
}

void CompletionSink::Finish(BlockingJob* job) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!alive_ || async_ == nullptr) {
    lock.unlock();
    delete job;  // the environment is gone: free the kernel-side memory here
    return;
  }
  done_.push_back(job);
  uv_async_send(reinterpret_cast<uv_async_t*>(async_));
}

void CompletionSink::SetRefed(bool refed) {
  if (async_ == nullptr || refed == refed_) return;
  refed_ = refed;
  auto* handle = reinterpret_cast<uv_handle_t*>(async_);
  if (refed) {
    uv_ref(handle);
  } else {
    uv_unref(handle);
  }
}

void CompletionSink::OnAsync(uv_async_t* async) {
  auto* sink = static_cast<CompletionSink*>(uv::HandleData(async));
  if (sink != nullptr) sink->DeliverAll();
}

void CompletionSink::DeliverAll() {
  std::vector<BlockingJob*> jobs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!alive_) return;
    jobs.swap(done_);
  }
  if (jobs.empty()) return;
  wakeups_++;
  deliver_(context_, jobs);
}

namespace {

struct CloseNotice {
  uv::HandleStorage* storage;
  void (*closed)(void*);
  void* data;
};

}  // namespace

void CompletionSink::Kill(void (*closed)(void*), void* data) {
  std::vector<BlockingJob*> jobs;
  uv::HandleStorage* storage;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    alive_ = false;
    jobs.swap(done_);
    storage = async_;
    async_ = nullptr;
  }
  for (BlockingJob* job : jobs) delete job;
  if (storage == nullptr) {
    if (closed != nullptr) closed(data);
    return;
  }
  auto* handle = reinterpret_cast<uv_handle_t*>(storage);
  uv::HandleData(handle) = new CloseNotice{storage, closed, data};
  uv_close(handle, [](uv_handle_t* h) {
    auto* notice = static_cast<CloseNotice*>(uv::HandleData(h));
    delete notice->storage;
    if (notice->closed != nullptr) notice->closed(notice->data);
    delete notice;
  });
}

}  // namespace sgv4
