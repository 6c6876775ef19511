// The two consumers of a SCSI ring's submission queue.
//
// sg (drivers/scsi/sg.c, Linux 6.1): one thread. It takes entries in claim order, writes
// each batch to the kernel with one writev() per fd (sg has no write_iter, so the VFS calls
// sg_write once per iovec element and stops at the first failure: do_loop_readv_writev in
// fs/read_write.c), and reaps with readv() of up to 16 replies (O_NONBLOCK: the first
// -EAGAIN from sg_read ends the call). sg_add_request allows SG_MAX_QUEUE = 16 requests per
// fd, so a queue depth above 16 uses a pool of ceil(depth / 16) fds on the same node, each
// with its reserved buffer sized to the ring's buffers (SizeReserves: one command per fd at a
// time moves through it without a buffer built for it alone). It
// sleeps in poll() on an eventfd (the doorbell) and the fds with commands in flight
// (sg_poll reports EPOLLIN while a completed request is unread).
//
// bsg (drivers/scsi/scsi_bsg.c scsi_bsg_sg_io_fn, block/bsg.c bsg_ioctl): queue_depth
// threads, each running one blocking SG_IO at a time (bsg in 6.1 has no asynchronous
// interface). The wait in blk_execute_rq is uninterruptible, so no command is ever sent
// twice; every signal is blocked in these threads anyway, so process-directed signals go
// to threads that run JavaScript.
//
// sg with threads (RingConfig::sg_threads): the same threads, each with its own sg fd and an
// sg_io_hdr SG_IO (sg_ioctl_common -> sg_new_write + wait_event_interruptible on the
// request). One system call per command, as sg_dd makes, and each fd's reserved buffer sized
// to the ring's buffers (SG_SET_RESERVED_SIZE, as sg_dd sets it from bpt): a thread has one
// command at a time, so its fd's reserve always serves it (sg_start_req uses the reserve when
// the transfer fits and it is not in use; otherwise sg_build_indirect allocates pages per
// command). sg_ioctl's wait is interruptible, but every signal is blocked in these threads,
// so an EINTR retry never sends a command twice (the retry would be a new command: it is only
// taken for a -EINTR before sg_new_write, which cannot happen with signals blocked).
//
// Neither consumer trusts the submission entry: it is copied once (RingCore::TakeNext) and
// the copy is validated against the ring's registered buffers before any system call.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <scsi/sg.h>
#include <linux/bsg.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "blocked_thread.h"
#include "ring_core.h"

namespace sgv4 {

/**
 * Sizes the reserved buffer of each sg fd in `fds` to the ring's buffer size and records
 * the smallest size granted in the control block (kOffReserveBytes). sg_start_req
 * (drivers/scsi/sg.c) serves a command from its fd's reserve when the transfer fits and the
 * reserve is free (res_in_use); otherwise sg_build_indirect builds a buffer for that one
 * command, with pages allocated zeroed (__GFP_ZERO) and freed when the reply is read. sg_dd
 * sizes its reserve from bpt for the same reason; a command above the default reserve
 * (SG_DEF_RESERVED_SIZE, 32 KiB) would otherwise pay that allocation every time. Best
 * effort: sg_build_reserve may grant less (capped by max_sectors_kb, halved when the pages
 * cannot be had), and then the larger commands allocate as before.
 */
static void SizeReserves(RingCore& core, const std::vector<int>& fds) {
  const int wanted = static_cast<int>(core.config().buffer_size);
  int smallest = -1;
  for (const int fd : fds) {
    int size = wanted;
    if (wanted > 0) (void)ioctl(fd, SG_SET_RESERVED_SIZE, &size);
    int got = 0;
    if (ioctl(fd, SG_GET_RESERVED_SIZE, &got) < 0) got = 0;
    if (smallest < 0 || got < smallest) smallest = got;
  }
  __atomic_store_n(core.Word(ring::kOffReserveBytes), smallest < 0 ? 0 : smallest, __ATOMIC_RELEASE);
}

namespace {

/** SG_FLAG_Q_AT_TAIL (include/scsi/sg.h in Linux 6.1; glibc's <scsi/sg.h> lacks it). */
constexpr unsigned kSgFlagQAtTail = 0x10;
/** SG_FLAG_MMAP_IO (include/scsi/sg.h; also missing from glibc's copy). */
constexpr unsigned kSgFlagMmapIo = 0x4;

/**
 * Checks a copied entry against the ring: CDB length 6..32 (sg_new_write allows up to
 * SG_MAX_CDB_SIZE, scsi_bsg_sg_io_fn up to the 32-byte scsi_cmnd.cmnd), a known direction,
 * a registered buffer range that holds the transfer, sense <= 96 bytes. 0 or EINVAL.
 */
int Validate(const RingCore& core, const SqeCopy& e) {
  const RingConfig& config = core.config();
  if (e.cdb_length < 6 || e.cdb_length > ring::kMaxCdb) return EINVAL;
  if (e.direction > ring::kDirToDevice) return EINVAL;
  if (e.max_sense > ring::kSenseBytes) return EINVAL;
  if (e.direction == ring::kDirNone) return e.length == 0 ? 0 : EINVAL;
  if (e.length == 0) return EINVAL;
  if (e.buffer_index >= config.buffer_count) {
    // An mmap-ed reserve: the transfer starts at its first byte (sg_mmap maps the reserve from offset 0).
    if (e.buffer_index - config.buffer_count >= config.mmap_slots || e.buffer_offset != 0) return EINVAL;
  }
  if (static_cast<uint64_t>(e.buffer_offset) + e.length > config.buffer_size) return EINVAL;
  return 0;
}

/** A kernel duration in milliseconds as the completion's microseconds (saturating). */
uint32_t MsToUs(uint32_t ms) { return ms >= UINT32_MAX / 1000 ? UINT32_MAX : ms * 1000; }

bool IsMmapSlot(const RingCore& core, const SqeCopy& e) {
  return e.direction != ring::kDirNone && e.buffer_index >= core.config().buffer_count;
}

uint8_t* DataPointer(const RingCore& core, const SqeCopy& e) {
  if (e.direction == ring::kDirNone || IsMmapSlot(core, e)) return nullptr;
  return core.buffer_base() + static_cast<size_t>(e.buffer_index) * core.buffer_stride() + e.buffer_offset;
}

CqeCopy FailedCqe(const SqeCopy& e, int error, uint32_t flags = 0) {
  CqeCopy c;
  c.user_data = e.user_data;
  c.producer = e.producer;
  c.tag = e.tag;
  c.error = error;
  c.flags = flags;
  return c;
}

// ---------------------------------------------------------------- sg

class SgConsumer : public RingConsumer {
 public:
  static constexpr int kPerFd = 16;  // SG_MAX_QUEUE

  explicit SgConsumer(const std::shared_ptr<RingCore>& core) : core_(core.get()), keep_(core) {}
  ~SgConsumer() override {
    for (int fd : fds_) close(fd);
    if (event_fd_ >= 0) close(event_fd_);
    if (epoll_fd_ >= 0) close(epoll_fd_);
  }

  int Start(const char** syscall) override {
    const uint32_t depth = core_->config().queue_depth;
    const int count = static_cast<int>((depth + kPerFd - 1) / kPerFd);
    for (int i = 0; i < count; i++) {
      const int fd = open(core_->config().path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) {
        *syscall = "open";
        return errno;
      }
      fds_.push_back(fd);
    }
    pool_fds_ = static_cast<int>(fds_.size());
    SizeReserves(*core_, fds_);
    std::vector<SharedMapping*> regions;
    const uint32_t reserve = core_->config().buffer_size;
    for (uint32_t m = 0; m < core_->config().mmap_slots; m++) {
      const int fd = open(core_->config().path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) {
        *syscall = "open";
        return ReleaseRegions(regions, errno);
      }
      fds_.push_back(fd);
      // sg_ioctl SG_SET_RESERVED_SIZE rebuilds the reserve (sg_build_reserve may give less than asked,
      // capped by max_sectors_kb: SG_GET_RESERVED_SIZE tells); sg_mmap refuses a length beyond it (ENOMEM).
      int size = static_cast<int>(reserve);
      int got = 0;
      if (ioctl(fd, SG_SET_RESERVED_SIZE, &size) < 0 || ioctl(fd, SG_GET_RESERVED_SIZE, &got) < 0) {
        *syscall = "ioctl(SG_SET_RESERVED_SIZE)";
        return ReleaseRegions(regions, errno);
      }
      if (got < static_cast<int>(reserve)) {
        *syscall = "ioctl(SG_SET_RESERVED_SIZE)";
        return ReleaseRegions(regions, ENOMEM);
      }
      void* address = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (address == MAP_FAILED) {
        *syscall = "mmap";
        return ReleaseRegions(regions, errno);
      }
      regions.push_back(new SharedMapping(address, reserve));
    }
    core_->SetMmapRegions(std::move(regions));
    fd_inflight_.assign(fds_.size(), 0);
    fd_readable_.assign(fds_.size(), false);
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) {
      *syscall = "eventfd";
      return errno;
    }
    // The loop reaper's fd: an epoll set of every sg fd, readable while a reply waits on any of
    // them (sg_poll reports EPOLLIN while a completed request is unread; a nested epoll is
    // level-triggered through ep_eventpoll_poll in fs/eventpoll.c, which re-polls its items).
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
      *syscall = "epoll_create1";
      return errno;
    }
    for (size_t f = 0; f < fds_.size(); f++) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(f);
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fds_[f], &ev) < 0) {
        *syscall = "epoll_ctl";
        return errno;
      }
    }
    by_producer_.assign(core_->config().producers, 0);
    slots_.resize(depth);
    for (int i = static_cast<int>(depth) - 1; i >= 0; i--) free_.push_back(i);
    *syscall = "pthread_create";
    return StartBlockedThread(ThreadMain, this);
  }

  void Wake(uint32_t) override {
    int32_t* sleeping = core_->Word(ring::kOffSleeping);
    // Stopping: the thread may sleep without the flag (no free slot, a loop reaper busy with
    // its commands) and must see the last credit come back.
    if (__atomic_exchange_n(sleeping, 0, __ATOMIC_SEQ_CST) == 1 || stop_.load(std::memory_order_seq_cst)) {
      core_->Count(ring::kStatDoorbells);
      WakeThread();
    }
  }

  int LoopFd() const override { return epoll_fd_; }

  void ProducerGone(int producer) override {
    std::lock_guard<std::mutex> lock(work_mutex_);
    if (reaper_ != producer) return;
    // Its loop no longer watches the fds: the consumer thread reaps what is in the kernel.
    reaper_ = -1;
    WakeThread();
  }

  void Stop() override {
    stop_.store(true, std::memory_order_seq_cst);
    const uint64_t one = 1;
    (void)!write(event_fd_, &one, sizeof one);
  }

 private:
  struct Slot {
    SqeCopy entry;
    sg_io_hdr hdr;
    uint8_t sense[ring::kSenseBytes];
    uint64_t start_ns;
    int fd_index;
  };

  static void* ThreadMain(void* arg) {
    auto* self = static_cast<SgConsumer*>(arg);
    std::shared_ptr<RingCore> keep = std::move(self->keep_);  // the core (and this consumer) live until we return
    self->Run();
    keep->OnConsumerStopped();
    return nullptr;  // `keep` goes last: it may destroy the core and this consumer
  }

  static int ReleaseRegions(std::vector<SharedMapping*>& regions, int err) {
    for (SharedMapping* region : regions) region->Release();
    regions.clear();
    return err;
  }

  int in_flight() const { return static_cast<int>(slots_.size() - free_.size()); }

  /** Where an entry goes: its mmap slot's own fd (one command at a time: one reserve), or the pool fd with
   *  the fewest commands below 16. -1 when that fd is full. */
  int Route(const SqeCopy& e) const {
    if (IsMmapSlot(*core_, e)) {
      const int fd_index = pool_fds_ + static_cast<int>(e.buffer_index - core_->config().buffer_count);
      return fd_inflight_[fd_index] == 0 ? fd_index : -1;
    }
    return PickFd();
  }

  /** The pool fd with the fewest commands in flight below 16, or -1. */
  int PickFd() const {
    int best = -1;
    for (int i = 0; i < pool_fds_; i++) {
      if (fd_inflight_[i] < kPerFd && (best < 0 || fd_inflight_[i] < fd_inflight_[best])) best = static_cast<int>(i);
    }
    return best;
  }

  void Prepare(int slot_index, int fd_index) {
    Slot& s = slots_[slot_index];
    const SqeCopy& e = s.entry;
    sg_io_hdr& h = s.hdr;
    std::memset(&h, 0, sizeof h);
    h.interface_id = 'S';
    h.dxfer_direction = e.direction == ring::kDirFromDevice ? SG_DXFER_FROM_DEV
                        : e.direction == ring::kDirToDevice ? SG_DXFER_TO_DEV
                                                            : SG_DXFER_NONE;
    h.cmd_len = e.cdb_length;
    h.mx_sb_len = static_cast<unsigned char>(e.max_sense);
    h.dxfer_len = e.length;
    h.dxferp = DataPointer(*core_, e);
    h.cmdp = s.entry.cdb;
    h.sbp = s.sense;
    h.timeout = e.timeout_ms;
    const bool mmap_io = IsMmapSlot(*core_, e);
    h.flags = (mmap_io ? kSgFlagMmapIo : (e.flags & ring::kFlagDirectIo) ? SG_FLAG_DIRECT_IO : 0) |
              ((e.flags & ring::kFlagQueueAtTail) ? kSgFlagQAtTail : 0);
    h.pack_id = slot_index;
    h.usr_ptr = reinterpret_cast<void*>(static_cast<intptr_t>(slot_index));
    s.fd_index = fd_index;
  }

  void Release(int slot_index) {
    fd_inflight_[slots_[slot_index].fd_index]--;
    const uint8_t producer = slots_[slot_index].entry.producer;
    if (producer < by_producer_.size()) by_producer_[producer]--;
    free_.push_back(slot_index);
  }

  void WakeThread() {
    const uint64_t one = 1;
    (void)!write(event_fd_, &one, sizeof one);
  }

  /**
   * Whether JS thread `producer`'s loop may reap what is in the kernel: loop reaping is on,
   * every command in the kernel is that thread's (another thread's completions must not
   * wait for this thread's loop), and there are few enough of them (beyond loop_reap_depth
   * the consumer thread's batches are cheaper than one loop wake-up per reply or two).
   */
  bool LoopMayReap(int producer) const {
    if (producer < 0 || static_cast<size_t>(producer) >= by_producer_.size()) return false;
    const int n = in_flight();
    return core_->config().loop_reap_depth > 0 && by_producer_[producer] == n &&
           n <= static_cast<int>(core_->config().loop_reap_depth);
  }

  /** Takes entries while slots are free and writes them: one writev per fd. Returns entries taken. */
  int Submit() {
    int taken = 0;
    // Emptied, not re-created: the inner vectors keep their capacity (no allocation per call).
    batch_.resize(fds_.size());
    for (std::vector<int>& b : batch_) b.clear();
    while (!free_.empty()) {
      SqeCopy e;
      const bool was_held = has_held_;
      if (was_held) {
        e = held_;
        has_held_ = false;
      } else {
        const TakeResult r = core_->TakeNext(&e);
        if (r == TakeResult::kEmpty) break;
        taken++;
        if (r == TakeResult::kCancelled) {
          done_.push_back(FailedCqe(e, ECANCELED, ring::kCqeCancelled));
          continue;
        }
        if (const int invalid = Validate(*core_, e)) {
          done_.push_back(FailedCqe(e, invalid));
          continue;
        }
      }
      const int fd_index = Route(e);
      if (fd_index < 0) {
        // Its fd is full (an mmap slot runs one command at a time): hold it, keep the claim order.
        // Holding it again is no progress: the caller must poll, not spin.
        held_ = e;
        has_held_ = true;
        break;
      }
      if (was_held) taken++;  // placed at last: progress
      const int slot_index = free_.back();
      free_.pop_back();
      slots_[slot_index].entry = e;
      fd_inflight_[fd_index]++;
      if (e.producer < by_producer_.size()) by_producer_[e.producer]++;
      Prepare(slot_index, fd_index);
      batch_[fd_index].push_back(slot_index);
    }
    for (size_t f = 0; f < fds_.size(); f++) {
      if (!batch_[f].empty()) Write(static_cast<int>(f), batch_[f]);
    }
    return taken;
  }

  void Write(int fd_index, const std::vector<int>& slots) {
    const int fd = fds_[fd_index];
    const uint64_t now = core_->config().timing ? NowNs() : 0;
    for (int slot_index : slots) slots_[slot_index].start_ns = now;
    size_t written = 0;
    int single_error = 0;
    if (slots.size() == 1) {
      core_->Count(ring::kStatWriteCalls);
      if (write(fd, &slots_[slots[0]].hdr, sizeof(sg_io_hdr)) == static_cast<ssize_t>(sizeof(sg_io_hdr))) {
        written = 1;
      } else {
        single_error = errno;
      }
    } else {
      iov_.resize(slots.size());
      for (size_t i = 0; i < slots.size(); i++) iov_[i] = {&slots_[slots[i]].hdr, sizeof(sg_io_hdr)};
      core_->Count(ring::kStatWritevCalls);
      const ssize_t n = writev(fd, iov_.data(), static_cast<int>(iov_.size()));
      if (n > 0) written = static_cast<size_t>(n) / sizeof(sg_io_hdr);
    }
    // writev stops at the first failure: the rest go alone with write(), each for its own errno.
    size_t accepted = written;
    for (size_t i = written; i < slots.size(); i++) {
      int error = single_error;
      if (slots.size() > 1) {
        core_->Count(ring::kStatWriteCalls);
        error = write(fd, &slots_[slots[i]].hdr, sizeof(sg_io_hdr)) == static_cast<ssize_t>(sizeof(sg_io_hdr)) ? 0 : errno;
      }
      if (error != 0) {
        done_.push_back(FailedCqe(slots_[slots[i]].entry, error));
        Release(slots[i]);
      } else {
        accepted++;
      }
    }
    written = accepted;
    core_->Count(ring::kStatSubmitted, written);
    fd_readable_[fd_index] = true;  // delay=0 devices answer inside write(): try a read at once
  }

  /** readv() of every fd that may hold replies. Returns completions found. */
  int Drain() {
    int found = 0;
    for (size_t f = 0; f < fds_.size(); f++) {
      if (!fd_readable_[f] || fd_inflight_[f] == 0) {
        fd_readable_[f] = false;
        continue;
      }
      fd_readable_[f] = false;
      const int want = fd_inflight_[f];
      replies_.resize(kPerFd);
      iovec iov[kPerFd];
      for (int i = 0; i < want; i++) iov[i] = {&replies_[i], sizeof(sg_io_hdr)};
      core_->Count(ring::kStatReadvCalls);
      // One command in flight (QD1): read(), the plain promise path's call. sg has no
      // read_iter, so readv() pays for importing the iovec and then calls sg_read per element
      // anyway (do_loop_readv_writev in fs/read_write.c).
      const ssize_t n = want == 1 ? read(fds_[f], &replies_[0], sizeof(sg_io_hdr)) : readv(fds_[f], iov, want);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        FailFd(static_cast<int>(f), errno);
        continue;
      }
      const int count = static_cast<int>(static_cast<size_t>(n) / sizeof(sg_io_hdr));
      const uint64_t now = core_->config().timing && count > 0 ? NowNs() : 0;
      for (int i = 0; i < count; i++) Complete(replies_[i], now);
      found += count;
    }
    return found;
  }

  void Complete(const sg_io_hdr& reply, uint64_t now) {
    const int slot_index = reply.pack_id;
    if (slot_index < 0 || slot_index >= static_cast<int>(slots_.size())) return;  // not ours
    Slot& s = slots_[slot_index];
    CqeCopy c;
    c.user_data = s.entry.user_data;
    c.producer = s.entry.producer;
    c.tag = s.entry.tag;
    c.device_status = reply.status;
    c.transport_status = reply.host_status;
    c.driver_status = reply.driver_status;
    if (s.entry.direction == ring::kDirFromDevice) c.din_resid = reply.resid;
    if (s.entry.direction == ring::kDirToDevice) c.dout_resid = reply.resid;
    c.sense_length = reply.sb_len_wr <= ring::kSenseBytes ? reply.sb_len_wr : ring::kSenseBytes;
    std::memcpy(c.sense, s.sense, c.sense_length);
    // Without the consumer's clock: the kernel's own, in milliseconds (sg_rq_end_io sets
    // sg_io_hdr.duration from jiffies, drivers/scsi/sg.c).
    c.duration_us = core_->config().timing ? static_cast<uint32_t>((now - s.start_ns) / 1000) : MsToUs(reply.duration);
    c.info = reply.info;
    done_.push_back(c);
    Release(slot_index);
  }

  /** read() failed for another reason than "nothing yet" (device gone): fail what it holds. */
  void FailFd(int fd_index, int error) {
    for (size_t i = 0; i < slots_.size(); i++) {
      bool is_free = false;
      for (int f : free_) is_free |= (f == static_cast<int>(i));
      if (!is_free && slots_[i].fd_index == fd_index) {
        done_.push_back(FailedCqe(slots_[i].entry, error));
        Release(static_cast<int>(i));
      }
    }
  }

  /** Posts the completions found; true when some went to `quiet_producer` (posted without a wake). */
  bool Flush(int quiet_producer) {
    if (done_.empty()) return false;
    bool mine = false;
    for (const CqeCopy& c : done_) mine |= static_cast<int>(c.producer) == quiet_producer;
    core_->Post(done_.data(), done_.size(), quiet_producer);
    done_.clear();
    return mine;
  }

  /** Under work_mutex_: whether to sleep, with the doorbell flag set when a new entry could be taken. */
  bool PrepareSleep() {
    int32_t* sleeping = core_->Word(ring::kOffSleeping);
    const bool can_take = !free_.empty() && (has_held_ ? Route(held_) >= 0 : PickFd() >= 0);
    // A loop reaper watches the fds from its own thread while it may: this thread then sleeps
    // on the doorbell only, so a reply wakes one thread, the one that will use it.
    const bool loop_reaps = reaper_ >= 0 && (in_flight() == 0 || LoopMayReap(reaper_));
    if (!loop_reaps && in_flight() > 0) reaper_ = -1;  // the loop reaper's poll stops at its next callback
    const uint32_t spin_us = core_->config().spin_us;
    if (can_take && spin_us > 0) {
      const uint64_t until = NowNs() + static_cast<uint64_t>(spin_us) * 1000;
      do {
        if (core_->SqReady()) return false;
        __builtin_ia32_pause();
      } while (NowNs() < until && !stop_.load(std::memory_order_relaxed));
    }
    // Dekker with the doorbell: flag first, then re-check the SQ (both sequentially consistent).
    // With a loop reaper the flag is raised even when no slot is free: this thread no longer
    // wakes on replies, so only doorbells (inline submissions) and the reaper's own submissions
    // after each reap move the SQ; without the flag, an entry published after the reaper's last
    // reap would wait for nobody. No slot free and a loop reaper: its next reap frees one.
    if (can_take || loop_reaps) {
      __atomic_store_n(sleeping, 1, __ATOMIC_SEQ_CST);
      if ((can_take && core_->SqReady()) || (stop_.load(std::memory_order_seq_cst) && core_->Drained())) {
        __atomic_store_n(sleeping, 0, __ATOMIC_SEQ_CST);
        return false;
      }
    }
    pollfds_.clear();
    poll_fd_index_.clear();
    pollfds_.push_back({event_fd_, POLLIN, 0});
    if (loop_reaps) return true;
    for (size_t f = 0; f < fds_.size(); f++) {
      if (fd_inflight_[f] > 0) {
        pollfds_.push_back({fds_[f], POLLIN, 0});
        poll_fd_index_.push_back(static_cast<int>(f));
      }
    }
    return true;
  }

  /**
   * Sleeps in poll() (the eventfd and the fds with commands in flight) without holding
   * work_mutex_, so a doorbell can submit inline meanwhile; an inline submission that leaves
   * commands in flight writes the eventfd, so this thread re-polls with their fds.
   */
  void Sleep() {
    core_->Count(ring::kStatPollCalls);
    const int n = poll(pollfds_.data(), pollfds_.size(), -1);
    __atomic_store_n(core_->Word(ring::kOffSleeping), 0, __ATOMIC_SEQ_CST);
    core_->Count(ring::kStatConsumerWakeups);
    if (n <= 0) return;
    if (pollfds_[0].revents & POLLIN) {
      uint64_t value;
      (void)!read(event_fd_, &value, sizeof value);
    }
    std::lock_guard<std::mutex> lock(work_mutex_);
    for (size_t p = 1; p < pollfds_.size(); p++) {
      if (pollfds_[p].revents & (POLLIN | POLLERR | POLLHUP)) fd_readable_[poll_fd_index_[p - 1]] = true;
    }
  }

  void Run() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(work_mutex_);
        const int taken = Submit();
        const int found = Drain();
        Flush(-1);
        if (taken > 0 || found > 0) continue;
        if (stop_.load(std::memory_order_seq_cst) && in_flight() == 0 && core_->Drained()) break;
        if (!PrepareSleep()) continue;
      }
      Sleep();
    }
  }

 public:
  /**
   * The doorbell of a JS thread while this consumer sleeps: submit inline, in the caller's
   * thread (as io_uring_enter() does without SQPOLL), and reap what the device already
   * answered. Completions for `producer` posted here send no wake-up: the caller reaps them
   * when this returns true. When the consumer is busy (the lock is taken) it will see the
   * entries itself (the Dekker pair of PrepareSleep).
   */
  uint32_t Inline(int producer, bool can_loop) override {
    std::unique_lock<std::mutex> lock(work_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      // The lock holder (the consumer thread about to sleep, another JS thread submitting,
      // a loop reaper) may have looked at the SQ before this entry was published: the
      // consumer thread takes it.
      WakeThread();
      return 0;
    }
    core_->Count(ring::kStatInlineDoorbells);
    // A device that answers inside write() (scsi_debug delay=0) has its replies ready at once,
    // which frees slots for entries still in the SQ (or the fd a held entry waits for): go round
    // while that makes progress, a bounded number of times (the JS thread waits meanwhile).
    for (int round = 0; round < 8; round++) {
      const int taken = Submit();
      const int found = Drain();
      // Another round only when the replies freed slots for what is still waiting: a second
      // Submit() of an empty SQ would find nothing (the common QD1 case).
      if ((taken == 0 && found == 0) || !(has_held_ || core_->SqReady())) break;
    }
    const bool mine = Flush(producer);
    return (mine ? kReapNow : 0) | HandOver(producer, can_loop);
  }

  /**
   * The uv_poll of loop reaper `producer` fired, on its own thread: read the replies (the
   * kernel hands each one to exactly one readv, and every Drain runs under work_mutex_, so
   * a reply is completed once whichever thread reads it), submit what the SQ holds into
   * the freed slots, post (the caller's completions without a wake-up).
   */
  uint32_t LoopReap(int producer) override {
    std::lock_guard<std::mutex> lock(work_mutex_);
    if (reaper_ != producer) return 0;  // the consumer thread took over: stop polling
    core_->Count(ring::kStatLoopReaps);
    MarkReadable();
    for (int round = 0; round < 8; round++) {
      const int found = Drain();
      const int taken = Submit();
      if (taken == 0 && found == 0) break;
    }
    const bool mine = Flush(producer);
    return (mine ? kReapNow : 0) | HandOver(producer, true);
  }

 private:
  /** Which fds to read: with several in use, the epoll set says which hold replies (one call, not one readv each). */
  void MarkReadable() {
    int busy = 0;
    for (size_t f = 0; f < fds_.size(); f++) busy += fd_inflight_[f] > 0;
    if (busy <= 1) {
      for (size_t f = 0; f < fds_.size(); f++) fd_readable_[f] = fd_inflight_[f] > 0;
      return;
    }
    epoll_event events[32];
    core_->Count(ring::kStatPollCalls);
    const int n = epoll_wait(epoll_fd_, events, 32, 0);
    for (int i = 0; i < n; i++) {
      const uint32_t f = events[i].data.u32;
      if (f < fd_readable_.size()) fd_readable_[f] = true;
    }
  }

  /**
   * Under work_mutex_, after an inline submission or a loop reap by `producer`: who reaps what
   * is left. The caller's loop when it may (LoopMayReap), else the consumer thread, woken
   * through its eventfd. Returns kLoopPoll while the caller is the reaper.
   */
  uint32_t HandOver(int producer, bool can_loop) {
    const bool leftover = has_held_ || core_->SqReady();
    if (in_flight() > 0) {
      if (can_loop && LoopMayReap(producer)) {
        reaper_ = producer;
      } else {
        reaper_ = -1;
        WakeThread();  // the sleeping consumer polls the fds with commands in flight
      }
    } else if (leftover) {
      WakeThread();  // entries the bounded rounds did not place
    }
    return reaper_ == producer ? kLoopPoll : 0;
  }

 public:

 private:
  RingCore* core_;
  std::shared_ptr<RingCore> keep_;  // handed to the thread at start
  std::vector<int> fds_;  // pool fds (16 commands each), then one fd per mmap slot
  int pool_fds_ = 0;
  SqeCopy held_;
  bool has_held_ = false;
  std::vector<int> fd_inflight_;
  std::vector<bool> fd_readable_;
  int event_fd_ = -1;
  int epoll_fd_ = -1;   // every sg fd, EPOLLIN: what a loop reaper's uv_poll watches
  int reaper_ = -1;     // the JS thread (producer) whose loop reaps, or -1: the consumer thread
  std::vector<int> by_producer_;  // commands in the kernel per producer
  std::vector<Slot> slots_;
  std::vector<int> free_;
  std::vector<std::vector<int>> batch_;
  std::vector<iovec> iov_;
  std::vector<sg_io_hdr> replies_;
  std::vector<CqeCopy> done_;
  std::vector<pollfd> pollfds_;
  std::vector<int> poll_fd_index_;
  std::atomic<bool> stop_{false};
  std::mutex work_mutex_;  // the consumer's state: its own thread, or a JS thread submitting inline
};

// ---------------------------------------------------------------- bsg

/** Blocking SG_IO threads: bsg (sg_io_v4, one shared fd) or sg with threads (sg_io_hdr, one fd each). */
class ThreadsConsumer : public RingConsumer {
 public:
  explicit ThreadsConsumer(const std::shared_ptr<RingCore>& core)
      : core_(core.get()), weak_(core), sg_(core->config().kind == 1) {}
  ~ThreadsConsumer() override {
    for (const int fd : fds_) close(fd);
  }

  int Start(const char** syscall) override {
    const uint32_t threads = core_->config().queue_depth;
    // bsg: one fd for all threads (bsg keeps no per-fd state). sg: one per thread, for its reserve.
    const uint32_t fds = sg_ ? threads : 1;
    for (uint32_t i = 0; i < fds; i++) {
      const int fd = open(core_->config().path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        *syscall = "open";
        return errno;
      }
      fds_.push_back(fd);
    }
    if (sg_) SizeReserves(*core_, fds_);
    *syscall = "pthread_create";
    for (uint32_t i = 0; i < threads; i++) {
      auto* start = new ThreadStart{weak_.lock(), fds_[sg_ ? i : 0]};
      const int err = StartBlockedThread(ThreadMain, start);
      if (err != 0) {
        delete start;
        if (i == 0) return err;
        break;  // fewer threads than asked: a smaller queue depth, still correct
      }
      std::lock_guard<std::mutex> lock(mutex_);
      running_++;
    }
    return 0;
  }

  void Wake(uint32_t count) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_ == 0) return;
    core_->Count(ring::kStatDoorbells);
    if (count >= static_cast<uint32_t>(idle_)) {
      ready_.notify_all();
    } else {
      for (uint32_t i = 0; i < count; i++) ready_.notify_one();
    }
  }

  void Stop() override {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    ready_.notify_all();
  }

 private:
  struct ThreadStart {
    std::shared_ptr<RingCore> core;
    int fd;
  };

  static void* ThreadMain(void* arg) {
    auto* start = static_cast<ThreadStart*>(arg);
    std::shared_ptr<RingCore> keep = std::move(start->core);
    const int fd = start->fd;
    delete start;
    auto* self = static_cast<ThreadsConsumer*>(keep->consumer_for_threads());
    if (self->Run(fd)) keep->OnConsumerStopped();
    return nullptr;
  }

  /** Returns true in the last thread to exit. */
  bool Run(int fd) {
    int32_t* idle_word = core_->Word(ring::kOffSleeping);
    for (;;) {
      SqeCopy e;
      TakeResult r;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
          r = core_->TakeNext(&e);
          if (r != TakeResult::kEmpty) break;
          if (stop_ && core_->Drained()) {
            ready_.notify_all();  // the others re-check and leave too
            return --running_ == 0;
          }
          idle_++;
          __atomic_store_n(idle_word, idle_, __ATOMIC_SEQ_CST);
          if (core_->SqReady() || (stop_ && core_->Drained())) {
            idle_--;
            __atomic_store_n(idle_word, idle_, __ATOMIC_SEQ_CST);
            continue;
          }
          ready_.wait(lock);
          idle_--;
          __atomic_store_n(idle_word, idle_, __ATOMIC_SEQ_CST);
          core_->Count(ring::kStatConsumerWakeups);
        }
      }
      CqeCopy c;
      if (r == TakeResult::kCancelled) {
        c = FailedCqe(e, ECANCELED, ring::kCqeCancelled);
      } else if (const int invalid = Validate(*core_, e)) {
        c = FailedCqe(e, invalid);
      } else {
        c = sg_ ? ExecuteSg(fd, e) : ExecuteBsg(fd, e);
      }
      // Defer the wake-up only while the SQ holds at least a batch more: then the device, not
      // JavaScript, is the bottleneck (JS keeps the queue full), the threads post again soon, and
      // JS would otherwise sleep and wake once per command. With the queue running low JS is the
      // bottleneck: it is told at once, and never left idle with completions to reap (measured at
      // delay=0: deferring then cost 0.75x, JS slept and woke per batch instead of staying busy).
      bool defer = false;
      if (core_->config().completion_batch > 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        defer = core_->SqBacklog() >= core_->config().completion_batch;
      }
      core_->Post(&c, 1, -1, defer);
    }
  }

  /**
   * One blocking SG_IO with `header` (an sg_io_hdr or an sg_io_v4) on `fd`: counted, and timed
   * with the consumer's clock when the ring times; the completion carries the entry's identity
   * and errno. The caller fills in what the header says.
   */
  CqeCopy RunSgIo(int fd, void* header, const SqeCopy& e) {
    const bool timing = core_->config().timing;
    const uint64_t start = timing ? NowNs() : 0;
    core_->Count(ring::kStatIoctlCalls);
    core_->Count(ring::kStatSubmitted);
    int rc;
    do {
      rc = ioctl(fd, SG_IO, header);
    } while (rc < 0 && errno == EINTR);  // signals are blocked in these threads; see the file comment
    CqeCopy c = FailedCqe(e, rc < 0 ? errno : 0);
    if (timing) c.duration_us = static_cast<uint32_t>((NowNs() - start) / 1000);
    return c;
  }

  /** One sg_io_hdr SG_IO on this thread's sg fd (sg_new_write validates it as write() would). */
  CqeCopy ExecuteSg(int fd, const SqeCopy& e) {
    sg_io_hdr hdr;
    std::memset(&hdr, 0, sizeof hdr);
    uint8_t sense[ring::kSenseBytes];
    uint8_t cdb[ring::kMaxCdb];
    std::memcpy(cdb, e.cdb, e.cdb_length);
    hdr.interface_id = 'S';
    hdr.cmd_len = static_cast<unsigned char>(e.cdb_length);
    hdr.cmdp = cdb;
    hdr.mx_sb_len = static_cast<unsigned char>(e.max_sense);
    hdr.sbp = sense;
    hdr.dxfer_direction = e.direction == ring::kDirFromDevice ? SG_DXFER_FROM_DEV
                          : e.direction == ring::kDirToDevice ? SG_DXFER_TO_DEV
                                                              : SG_DXFER_NONE;
    hdr.dxfer_len = e.length;
    hdr.dxferp = DataPointer(*core_, e);
    hdr.timeout = e.timeout_ms;
    hdr.flags = ((e.flags & ring::kFlagQueueAtTail) ? kSgFlagQAtTail : 0) |
                ((e.flags & ring::kFlagDirectIo) ? SG_FLAG_DIRECT_IO : 0);
    hdr.pack_id = static_cast<int>(e.user_data & 0x7fffffff);
    CqeCopy c = RunSgIo(fd, &hdr, e);
    // Without the consumer's clock: the kernel's, in milliseconds (sg_new_read sets
    // sg_io_hdr.duration from jiffies, drivers/scsi/sg.c).
    if (!core_->config().timing) c.duration_us = MsToUs(hdr.duration);
    if (c.error == 0) {
      c.device_status = hdr.status;
      c.transport_status = hdr.host_status;
      c.driver_status = hdr.driver_status;
      if (e.direction == ring::kDirFromDevice) c.din_resid = hdr.resid;
      if (e.direction == ring::kDirToDevice) c.dout_resid = hdr.resid;
      c.sense_length = hdr.sb_len_wr <= ring::kSenseBytes ? hdr.sb_len_wr : ring::kSenseBytes;
      std::memcpy(c.sense, sense, c.sense_length);
      c.info = hdr.info;
    }
    return c;
  }

  CqeCopy ExecuteBsg(int fd, const SqeCopy& e) {
    sg_io_v4 v4;
    std::memset(&v4, 0, sizeof v4);
    uint8_t sense[ring::kSenseBytes];
    v4.guard = 'Q';
    v4.protocol = BSG_PROTOCOL_SCSI;
    v4.subprotocol = BSG_SUB_PROTOCOL_SCSI_CMD;
    v4.request_len = e.cdb_length;
    v4.request = reinterpret_cast<uintptr_t>(e.cdb);
    v4.request_tag = e.tag;
    v4.request_attr = e.attribute;
    v4.max_response_len = e.max_sense;
    v4.response = reinterpret_cast<uintptr_t>(sense);
    uint8_t* data = DataPointer(*core_, e);
    if (e.direction == ring::kDirFromDevice) {
      v4.din_xfer_len = e.length;
      v4.din_xferp = reinterpret_cast<uintptr_t>(data);
    } else if (e.direction == ring::kDirToDevice) {
      v4.dout_xfer_len = e.length;
      v4.dout_xferp = reinterpret_cast<uintptr_t>(data);
    }
    v4.timeout = e.timeout_ms;
    v4.flags = (e.flags & ring::kFlagQueueAtTail) ? BSG_FLAG_Q_AT_TAIL : 0;
    CqeCopy c = RunSgIo(fd, &v4, e);
    // Without the consumer's clock: the kernel's, in milliseconds (scsi_bsg_sg_io_fn sets
    // sg_io_v4.duration from jiffies, drivers/scsi/scsi_bsg.c).
    if (!core_->config().timing) c.duration_us = MsToUs(v4.duration);
    if (c.error == 0) {
      c.device_status = v4.device_status;
      c.transport_status = v4.transport_status;
      c.driver_status = v4.driver_status;
      c.din_resid = v4.din_resid;
      c.dout_resid = v4.dout_resid;
      c.sense_length = v4.response_len <= ring::kSenseBytes ? v4.response_len : ring::kSenseBytes;
      std::memcpy(c.sense, sense, c.sense_length);
      c.info = v4.info;
    }
    return c;
  }

  RingCore* core_;
  std::weak_ptr<RingCore> weak_;
  const bool sg_;
  std::vector<int> fds_;
  std::mutex mutex_;
  std::condition_variable ready_;
  int idle_ = 0;
  int running_ = 0;
  bool stop_ = false;
};

}  // namespace

std::unique_ptr<RingConsumer> MakeSgConsumer(std::shared_ptr<RingCore> core) {
  return std::make_unique<SgConsumer>(core);
}

std::unique_ptr<RingConsumer> MakeThreadsConsumer(std::shared_ptr<RingCore> core) {
  return std::make_unique<ThreadsConsumer>(core);
}

}  // namespace sgv4
