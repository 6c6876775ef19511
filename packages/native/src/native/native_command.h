// NativeCommand: a prepared request (JS PreparedCommand). Validation, buffer placement
// and pinning happen once, at prepare(); each run() re-reads only the CDB bytes (and
// re-copies data-out that is copied), then costs one write() on sg (one pool-thread hop
// elsewhere) and one promise. A command runs once at a time.
#pragma once

#include <napi.h>

#include <memory>

#include "sg_io_request.h"

namespace sgv4 {

class DeviceHandle;

class NativeCommand : public Napi::ObjectWrap<NativeCommand> {
 public:
  static Napi::Function Define(Napi::Env env);

  /** JS: made by NativeHandle.prepare() only (handle object, external Request*). */
  explicit NativeCommand(const Napi::CallbackInfo& info);
  ~NativeCommand() override;

  /** The handle is done with the current run (completed, abandoned and completed, or torn down). */
  void RunFinished();
  /** Checks that a run may start and refreshes the request (throws). */
  Request* BeginRun(Napi::Env env);
  /** BeginRun, then marks the command running (pinned until RunFinished). */
  Request* BeginAsyncRun(Napi::Env env);

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunSync(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  Napi::Value GetRunning(const Napi::CallbackInfo& info);

  Napi::ObjectReference handle_object_;
  DeviceHandle* handle_ = nullptr;
  std::unique_ptr<Request> request_;
  bool running_ = false;
  bool pinned_ = false;  // Ref()-ed while the handle holds a run beyond the call that started it
  bool released_ = false;
};

}  // namespace sgv4
