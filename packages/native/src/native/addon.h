// Per-environment state of the addon (one instance per Node environment: main
// thread and every worker_thread get their own), and the JS error factories that
// @sgv4/native's TypeScript loader installs with configure().
#pragma once

#include <napi.h>

#include <memory>
#include <set>
#include <vector>

#include "blocking_pool.h"
#include "native_memory.h"

namespace sgv4 {

class DeviceHandle;

/**
 * Instance data of one Node environment: the error factories (functions from
 * @sgv4/core: OsError.fromErrno, InvalidFieldError, AbortedError), the live handles, the
 * bounce-buffer cache and the sink for pool-thread completions. Its asynchronous cleanup
 * hook (Node-API 8) tears every handle down when the environment goes away (a worker's
 * terminate(), process exit) without waiting for the kernel, and finishes only once every
 * libuv handle it closed has run its close callback.
 */
class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  static Addon& Of(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

  Napi::FunctionReference command_constructor;
  Napi::FunctionReference make_os_error;       // (errno, syscall, path) => OsError
  Napi::FunctionReference make_invalid_field;  // (field, rule, value) => InvalidFieldError
  Napi::FunctionReference make_aborted;        // (what, reason) => AbortedError
  std::set<DeviceHandle*> live_handles;
  std::shared_ptr<BouncePool> bounce_pool = std::make_shared<BouncePool>();

  /** The async context promise reactions of completions run in. */
  Napi::AsyncContext& async_context() { return *async_context_; }
  /** The sink for pool-thread completions (created on first use); nullptr and *err on failure. */
  std::shared_ptr<CompletionSink> Sink(Napi::Env env, int* err);
  /** Pool jobs whose handle is ref'd keep the event loop alive. */
  void AddRefedJobs(int delta);
  /** A libuv handle is being closed; teardown waits for its close callback. */
  void BeginHandleClose() { pending_closes_++; }
  void EndHandleClose();

 private:
  Napi::Value Configure(const Napi::CallbackInfo& info);
  Napi::Value AllocateBuffer(const Napi::CallbackInfo& info);
  static void DeliverJobs(void* context, std::vector<BlockingJob*>& jobs);
  static void AsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg);
  void MaybeFinishCleanup();

  napi_env env_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  std::shared_ptr<CompletionSink> sink_;
  int refed_jobs_ = 0;
  int pending_closes_ = 0;
  napi_async_cleanup_hook_handle cleanup_registration_ = nullptr;
  napi_async_cleanup_hook_handle cleanup_running_ = nullptr;
};

/** The dynamic char major of bsg from /proc/devices ("Character devices:" section), or -1. */
int ReadBsgMajor();

}  // namespace sgv4
