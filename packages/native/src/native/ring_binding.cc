#include "ring_binding.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <set>

#include "addon.h"
#include "js_errors.h"

namespace sgv4 {

/**
 * What an attachment needs after its JS object may be gone: the core, the async handle,
 * the callback and the cleanup-hook registration. Freed in the async handle's close
 * callback, which also ends the environment's cleanup hook when one is waiting.
 */
struct RingPortState {
  napi_env env = nullptr;
  std::shared_ptr<RingCore> core;
  int producer = -1;
  bool owner = false;
  bool detached = false;
  uv::HandleStorage* async = nullptr;
  uv::HandleStorage* poll = nullptr;  // sg: uv_poll on the consumer's loop fd (loop reaping); nullptr if none
  bool polling = false;
  Napi::FunctionReference on_completions;
  Napi::ObjectReference self;       // strong while attached: callbacks need the object
  Napi::Reference<Napi::ArrayBuffer> control;
  Napi::Reference<Napi::ArrayBuffer> buffers;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  NativeRing* wrapper = nullptr;
};

namespace {

constexpr unsigned kSgMajor = 21;  // SCSI_GENERIC_MAJOR, include/uapi/linux/major.h

/** Rings attached on this thread (one Node environment per thread): one attachment each. */
thread_local std::set<uint32_t> attached_here;

void FinalizeView(napi_env, void*, void* hint) { static_cast<MemoryBlock*>(hint)->Release(); }

Napi::ArrayBuffer ViewOf(Napi::Env env, MemoryBlock* block, size_t length) {
  if (length == 0) return Napi::ArrayBuffer::New(env, 0);
  block->Retain();  // the view's own reference, dropped by its finalizer
  napi_value out;
  const napi_status status = napi_create_external_arraybuffer(env, block->data(), length, FinalizeView, block, &out);
  if (status != napi_ok) {
    block->Release();
    ThrowIfFailed(env, status);
  }
  return Napi::ArrayBuffer(env, out);
}

void FinalizeMappingView(napi_env, void*, void* hint) { static_cast<SharedMapping*>(hint)->Release(); }

Napi::ArrayBuffer MappingView(Napi::Env env, SharedMapping* region) {
  region->Retain();
  napi_value out;
  const napi_status status =
      napi_create_external_arraybuffer(env, region->data(), region->length(), FinalizeMappingView, region, &out);
  if (status != napi_ok) {
    region->Release();
    ThrowIfFailed(env, status);
  }
  return Napi::ArrayBuffer(env, out);
}

void OnClosed(uv_handle_t* handle) {
  auto* state = static_cast<RingPortState*>(uv::HandleData(handle));
  napi_async_cleanup_hook_handle cleanup = state->cleanup;
  delete reinterpret_cast<uv::HandleStorage*>(handle);
  state->async = nullptr;
  delete state;
  if (cleanup != nullptr) napi_remove_async_cleanup_hook(cleanup);
}

/** The poll handle's storage only: the state may already be gone (close callbacks run last-closed first). */
void OnPollClosed(uv_handle_t* handle) { delete reinterpret_cast<uv::HandleStorage*>(handle); }

/** Ends an attachment: no more completions for it, the async handle closes, the state goes. */
void DetachState(RingPortState* state) {
  if (state->detached) return;
  state->detached = true;
  attached_here.erase(state->core->id());
  if (state->poll != nullptr) {
    // uv_close stops the poll at once (uv__poll_stop removes the fd from the loop's epoll set),
    // before the core and with it the consumer's epoll fd can go.
    uv_close(reinterpret_cast<uv_handle_t*>(state->poll), OnPollClosed);
    state->poll = nullptr;
    state->polling = false;
  }
  state->core->Detach(state->producer);
  if (state->owner) state->core->Shutdown();
  state->core.reset();
  if (state->wrapper != nullptr) {
    state->wrapper->Forget();
    state->wrapper = nullptr;
  }
  // Reset() throws when napi_delete_reference fails, which it may during an environment's
  // teardown; the references die with the environment then anyway.
  try {
    state->on_completions.Reset();
    state->control.Reset();
    state->buffers.Reset();
    if (!state->self.IsEmpty()) state->self.Reset();
  } catch (const Napi::Error&) {
    state->on_completions.SuppressDestruct();
    state->control.SuppressDestruct();
    state->buffers.SuppressDestruct();
    state->self.SuppressDestruct();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(state->async), OnClosed);
}

/**
 * Calls the thread's completion callback (the JS wrapper reaps its CQ). MakeCallback, so that
 * the completions' promise reactions and nextTick callbacks run right after it. Those are user
 * code: an exception there (for example a post() callback's, which the wrapper re-throws from
 * process.nextTick) comes back out of MakeCallback and belongs to the process, like any
 * uncaught exception: napi_fatal_exception hands it to 'uncaughtException' handling, whatever
 * was thrown (`throw undefined` included).
 */
void DeliverCompletions(RingPortState* state) {
  Napi::Env env(state->env);
  // Outside the try: the catch reads the exception's value, which needs a scope too.
  Napi::HandleScope scope(env);
  try {
    state->on_completions.MakeCallback(env.Global(), {Napi::Boolean::New(env, state->core->stopped())},
                                       Addon::Of(env).async_context());
  } catch (const Napi::Error& e) {
    // Reading the value makes N-API calls of its own (a thrown primitive is unwrapped from a
    // holder object), which may fail while the environment stops: nothing may escape into libuv.
    // napi_fatal_exception itself does nothing once JS can no longer run (a terminating worker).
    try {
      const Napi::Value error = e.Value();
      if (!error.IsEmpty()) napi_fatal_exception(env, error);
    } catch (...) {
    }
  }
}

void OnAsync(uv_async_t* async) {
  auto* state = static_cast<RingPortState*>(uv::HandleData(async));
  if (state == nullptr || state->detached) return;
  state->core->Count(ring::kStatJsWakeups);
  DeliverCompletions(state);
}

/** Starts or stops this thread's loop reaping as the consumer answered (RingConsumer::kLoopPoll). */
void ApplyLoopPoll(RingPortState* state, uint32_t bits);

/**
 * A reply waits on one of the sg fds and this thread's loop is the reaper: read it here,
 * on the loop thread, and deliver this thread's completions without any cross-thread
 * wake-up (the promise path's cost: one wake-up of the loop thread itself).
 */
void OnLoopPoll(uv_poll_t* poll, int status, int) {
  auto* state = static_cast<RingPortState*>(uv::HandleData(poll));
  if (state == nullptr || state->detached) return;
  if (status < 0) {
    // The loop cannot watch the fd: hand the commands to the consumer thread.
    state->core->LoopGone(state->producer);
    ApplyLoopPoll(state, 0);
    return;
  }
  const uint32_t bits = state->core->LoopReap(state->producer);
  ApplyLoopPoll(state, bits);
  if ((bits & RingConsumer::kReapNow) == 0) return;
  DeliverCompletions(state);
}

void ApplyLoopPoll(RingPortState* state, uint32_t bits) {
  if (state->poll == nullptr || state->detached) return;
  const bool want = (bits & RingConsumer::kLoopPoll) != 0;
  if (want == state->polling) return;
  auto* poll = reinterpret_cast<uv_poll_t*>(state->poll);
  if (want) {
    if (uv_poll_start(poll, uv::kReadable, OnLoopPoll) != 0) {
      state->core->LoopGone(state->producer);
      return;
    }
  } else {
    uv_poll_stop(poll);
  }
  state->polling = want;
}

void AsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* state = static_cast<RingPortState*>(arg);
  state->cleanup = handle;
  if (state->detached) return;  // a close is already under way; its callback ends the hook
  try {
    DetachState(state);
  } catch (const Napi::Error&) {
    // No JS can run any more: nothing to report to, and a C++ exception must not leave a C callback.
  }
}

uint32_t NumberField(Napi::Object spec, const char* name, uint32_t min, uint32_t max) {
  Napi::Env env = spec.Env();
  Napi::Value v = spec.Get(name);
  if (!v.IsNumber()) throw WrongType(env, std::string("options.") + name, "a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw InvalidField(env, std::string("options.") + name,
                       "must be an integer in " + std::to_string(min) + ".." + std::to_string(max), d);
  }
  return static_cast<uint32_t>(d);
}

}  // namespace

Napi::Function NativeRing::Define(Napi::Env env) {
  return DefineClass(env, "NativeRing",
                     {
                         InstanceMethod<&NativeRing::Control>("control"),
                         InstanceMethod<&NativeRing::Buffers>("buffers"),
                         InstanceMethod<&NativeRing::MmapBuffer>("mmapBuffer"),
                         InstanceMethod<&NativeRing::Doorbell>("doorbell"),
                         InstanceMethod<&NativeRing::Kick>("kick"),
                         InstanceMethod<&NativeRing::Shutdown>("shutdown"),
                         InstanceMethod<&NativeRing::Detach>("detach"),
                         InstanceMethod<&NativeRing::SetRef>("setRef"),
                         InstanceAccessor<&NativeRing::Stopped>("stopped"),
                         InstanceAccessor<&NativeRing::Producer>("producer"),
                         InstanceAccessor<&NativeRing::Id>("id"),
                         InstanceAccessor<&NativeRing::Kind>("kind"),
                         InstanceAccessor<&NativeRing::Path>("path"),
                     });
}

Napi::Value NativeRing::Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* name, double value) { o.Set(name, Napi::Number::New(env, value)); };
  set("offSqTail", ring::kOffSqTail);
  set("offSqHead", ring::kOffSqHead);
  set("offCredits", ring::kOffCredits);
  set("offSleeping", ring::kOffSleeping);
  set("offWaiters", ring::kOffWaiters);
  set("offClosing", ring::kOffClosing);
  set("offStats", ring::kOffStats);
  set("statCount", ring::kStatCount);
  set("offProducerTable", ring::kOffProducerTable);
  set("producerRecord", ring::kProducerRecord);
  set("prodCqTail", ring::kProdCqTail);
  set("prodCqHead", ring::kProdCqHead);
  set("offSq", ring::kOffSq);
  set("sqeSize", ring::kSqeSize);
  set("sqeUserData", ring::kSqeUserData);
  set("sqeCdbLength", ring::kSqeCdbLength);
  set("sqeBufferIndex", ring::kSqeBufferIndex);
  set("sqeTag", ring::kSqeTag);
  set("sqeMaxSense", ring::kSqeMaxSense);
  set("sqeCdb", ring::kSqeCdb);
  set("cqeSize", ring::kCqeSize);
  set("cqeErrno", ring::kCqeErrno);
  set("cqeSenseLength", ring::kCqeSenseLength);
  set("cqeTag", ring::kCqeTag);
  set("cqeFlags", ring::kCqeFlags);
  set("cqeSense", ring::kCqeSense);
  set("senseBytes", ring::kSenseBytes);
  set("closedCredits", ring::kClosedCredits);
  set("maxProducers", ring::kMaxProducers);
  set("maxCdb", ring::kMaxCdb);
  return o;
}

NativeRing::NativeRing(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeRing>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw WrongType(env, "options", "an object");
  if (!info[1].IsFunction()) throw WrongType(env, "onCompletions", "a function");
  Napi::Object spec = info[0].As<Napi::Object>();
  std::shared_ptr<RingCore> core;
  bool owner = false;
  if (spec.Has("id")) {
    const uint32_t id = NumberField(spec, "id", 1, UINT32_MAX);
    core = RingCore::Find(id);
    if (!core || core->stopped() || __atomic_load_n(core->Word(ring::kOffClosing), __ATOMIC_SEQ_CST) != 0) {
      throw OsError(env, EBADF, "attach", core ? core->config().path : std::string("ring ") + std::to_string(id));
    }
  } else {
    Napi::Value path_value = spec.Get("path");
    if (!path_value.IsString()) throw WrongType(env, "path", "a string");
    RingConfig config;
    config.path = path_value.As<Napi::String>().Utf8Value();
    config.entries = NumberField(spec, "entries", 4, 4096);
    if ((config.entries & (config.entries - 1)) != 0) {
      throw InvalidField(env, "options.entries", "must be a power of two", config.entries);
    }
    config.producers = NumberField(spec, "producers", 1, ring::kMaxProducers);
    config.queue_depth = NumberField(spec, "queueDepth", 1, config.entries);
    config.buffer_count = NumberField(spec, "bufferCount", 0, 65536);
    const uint32_t buffer_size = NumberField(spec, "bufferSize", 0, 1u << 28);
    config.buffer_size = buffer_size == 0 ? 0 : static_cast<uint32_t>(RoundUpToPages(buffer_size));
    if (static_cast<uint64_t>(config.buffer_count) * config.buffer_size > INT32_MAX) {
      throw InvalidField(env, "options.bufferCount", "bufferCount * bufferSize (rounded up to pages) must be < 2 GiB",
                         config.buffer_count);
    }
    config.spin_us = NumberField(spec, "spinMicros", 0, 10000);
    config.mmap_slots = NumberField(spec, "mmapSlots", 0, 64);
    config.loop_reap_depth = NumberField(spec, "loopReapDepth", 0, 256);
    config.timing = spec.Get("timing").ToBoolean().Value();
    config.sg_threads = spec.Get("sgThreads").ToBoolean().Value();
    config.completion_batch = NumberField(spec, "completionBatch", 1, config.entries);
    if (config.mmap_slots > 0 && config.buffer_size == 0) {
      throw InvalidField(env, "options.bufferSize", "must be > 0 with mmap-ed slots (it is their reserve size)", 0);
    }
    struct stat st;
    if (stat(config.path.c_str(), &st) != 0) throw OsError(env, errno, "stat", config.path);
    const int bsg = ReadBsgMajor();
    if (S_ISCHR(st.st_mode) && major(st.st_rdev) == kSgMajor) {
      config.kind = 1;
      if (config.queue_depth > 256) {
        throw InvalidField(env, "options.queueDepth", "must be <= 256 on sg (16 fds of 16 commands)", config.queue_depth);
      }
      if (config.sg_threads && config.queue_depth > 128) {
        throw InvalidField(env, "options.queueDepth", "must be <= 128 on sg with sgThreads (one thread each)",
                           config.queue_depth);
      }
      if (config.sg_threads && config.mmap_slots > 0) {
        throw InvalidField(env, "options.mmapSlots", "must be 0 with sgThreads (mmap-ed slots need the write()/readv() consumer)",
                           config.mmap_slots);
      }
    } else if (S_ISCHR(st.st_mode) && bsg >= 0 && major(st.st_rdev) == static_cast<unsigned>(bsg)) {
      config.kind = 2;
      if (config.mmap_slots > 0) {
        throw InvalidField(env, "options.mmapSlots", "must be 0 on bsg (only sg has an mmap-able reserved buffer)",
                           config.mmap_slots);
      }
      if (config.queue_depth > 128) {
        throw InvalidField(env, "options.queueDepth", "must be <= 128 on bsg (one thread each)", config.queue_depth);
      }
    } else {
      throw InvalidField(env, "path", "must be an sg (/dev/sgN) or bsg (/dev/bsg/H:C:T:L) character device",
                         static_cast<double>(st.st_rdev));
    }
    int err = 0;
    const char* syscall = "";
    core = RingCore::Create(config, &err, &syscall);
    if (!core) throw OsError(env, err, syscall, config.path);
    owner = true;
  }
  if (attached_here.count(core->id()) != 0) {
    throw InvalidField(env, "id", "this thread is already attached to the ring (one attachment per thread)", core->id());
  }
  auto* state = new RingPortState();
  state->env = env;
  state->core = core;
  state->owner = owner;
  state->async = new uv::HandleStorage();
  uv::HandleData(state->async) = state;
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, reinterpret_cast<struct uv_loop_s**>(&loop));
  int rc = uv_async_init(loop, reinterpret_cast<uv_async_t*>(state->async), OnAsync);
  if (rc != 0) {
    delete state->async;
    delete state;
    if (owner) core->Shutdown();
    throw OsError(env, -rc, "uv_async_init", core->config().path);
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(state->async));
  const int loop_fd = core->loop_fd();
  if (loop_fd >= 0) {
    state->poll = new uv::HandleStorage();
    if (uv_poll_init(loop, reinterpret_cast<uv_poll_t*>(state->poll), loop_fd) == 0) {
      uv::HandleData(state->poll) = state;
      uv_unref(reinterpret_cast<uv_handle_t*>(state->poll));  // the async handle's ref keeps the loop alive
    } else {
      delete state->poll;  // this thread never reaps on its loop; the consumer thread does
      state->poll = nullptr;
    }
  }
  state->producer = core->Attach(reinterpret_cast<uv_async_t*>(state->async));
  if (state->producer < 0) {
    state->detached = true;
    if (state->poll != nullptr) uv_close(reinterpret_cast<uv_handle_t*>(state->poll), OnPollClosed);
    state->poll = nullptr;
    state->core.reset();
    if (owner) core->Shutdown();
    uv_close(reinterpret_cast<uv_handle_t*>(state->async), OnClosed);
    throw InvalidField(env, "producers", "every producer slot of the ring is attached", core->config().producers);
  }
  attached_here.insert(core->id());
  state->on_completions = Napi::Persistent(info[1].As<Napi::Function>());
  state->self = Napi::Persistent(info.This().As<Napi::Object>());
  state->wrapper = this;
  if (napi_add_async_cleanup_hook(env, AsyncCleanup, state, &state->cleanup) != napi_ok) state->cleanup = nullptr;
  state_ = state;
}

NativeRing::~NativeRing() {
  if (state_ != nullptr) state_->wrapper = nullptr;
}

Napi::Value NativeRing::Control(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ == nullptr) throw OsError(env, EBADF, "control", "");
  if (state_->control.IsEmpty()) {
    RingCore& core = *state_->core;
    state_->control = Napi::Persistent(
        ViewOf(env, core.control_block(), ring::ControlBytes(core.config().entries, core.config().producers)));
  }
  return state_->control.Value();
}

Napi::Value NativeRing::Buffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ == nullptr) throw OsError(env, EBADF, "buffers", "");
  if (state_->buffers.IsEmpty()) {
    RingCore& core = *state_->core;
    state_->buffers = Napi::Persistent(
        ViewOf(env, core.buffer_block(), static_cast<size_t>(core.config().buffer_count) * core.config().buffer_size));
  }
  return state_->buffers.Value();
}

Napi::Value NativeRing::MmapBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ == nullptr) throw OsError(env, EBADF, "mmapBuffer", "");
  const int64_t index = IntegerArg(info, 0, "index", 0, static_cast<int64_t>(state_->core->config().mmap_slots) - 1);
  SharedMapping* region = state_->core->mmap_region(static_cast<size_t>(index));
  if (region == nullptr) throw OsError(env, ENXIO, "mmapBuffer", state_->core->config().path);
  return MappingView(env, region);
}

Napi::Value NativeRing::Doorbell(const Napi::CallbackInfo& info) {
  bool reap = false;
  if (state_ != nullptr && !state_->detached) {
    const uint32_t count = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 1;
    const uint32_t bits = state_->core->Doorbell(count == 0 ? 1 : count, state_->producer, state_->poll != nullptr);
    ApplyLoopPoll(state_, bits);
    reap = (bits & RingConsumer::kReapNow) != 0;
  }
  return Napi::Boolean::New(info.Env(), reap);
}

Napi::Value NativeRing::Kick(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) state_->core->WakeAll();
  return info.Env().Undefined();
}

Napi::Value NativeRing::Shutdown(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) state_->core->Shutdown();
  return info.Env().Undefined();
}

Napi::Value NativeRing::Detach(const Napi::CallbackInfo& info) {
  if (state_ != nullptr) {
    RingPortState* state = state_;
    state_ = nullptr;
    DetachState(state);
  }
  return info.Env().Undefined();
}

Napi::Value NativeRing::SetRef(const Napi::CallbackInfo& info) {
  if (state_ != nullptr && !state_->detached) {
    auto* handle = reinterpret_cast<uv_handle_t*>(state_->async);
    if (info[0].ToBoolean().Value()) {
      uv_ref(handle);
    } else {
      uv_unref(handle);
    }
  }
  return info.Env().Undefined();
}

Napi::Value NativeRing::Stopped(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_ == nullptr || state_->core->stopped());
}

Napi::Value NativeRing::Producer(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_ == nullptr ? -1 : state_->producer);
}

Napi::Value NativeRing::Id(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_ == nullptr ? 0 : state_->core->id());
}

Napi::Value NativeRing::Kind(const Napi::CallbackInfo& info) {
  if (state_ == nullptr) return info.Env().Undefined();
  return Napi::String::New(info.Env(), state_->core->config().kind == 1 ? "sg" : "bsg");
}

Napi::Value NativeRing::Path(const Napi::CallbackInfo& info) {
  if (state_ == nullptr) return info.Env().Undefined();
  return Napi::String::New(info.Env(), state_->core->config().path);
}

}  // namespace sgv4
