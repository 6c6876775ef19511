#include "native_command.h"

#include "addon.h"
#include "device_handle.h"
#include "js_errors.h"

namespace sgv4 {

Napi::Function NativeCommand::Define(Napi::Env env) {
  return DefineClass(env, "NativeCommand",
                     {
                         InstanceMethod<&NativeCommand::Run>("run"),
                         InstanceMethod<&NativeCommand::RunSync>("runSync"),
                         InstanceMethod<&NativeCommand::Release>("release"),
                         InstanceAccessor<&NativeCommand::GetRunning>("running"),
                     });
}

NativeCommand::NativeCommand(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeCommand>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsExternal()) {
    throw Napi::TypeError::New(env, "NativeCommand: made by NativeHandle.prepare() only");
  }
  handle_ = Napi::ObjectWrap<DeviceHandle>::Unwrap(info[0].As<Napi::Object>());
  handle_object_ = Napi::Persistent(info[0].As<Napi::Object>());  // the handle outlives its commands
  request_.reset(info[1].As<Napi::External<Request>>().Data());
  request_->command = this;
  request_->handle = handle_;
}

NativeCommand::~NativeCommand() { request_.reset(); }

void NativeCommand::RunFinished() {
  if (!running_) return;
  running_ = false;
  if (pinned_) {
    pinned_ = false;
    Unref();
  }
  if (released_) request_.reset();
}

Request* NativeCommand::BeginRun(Napi::Env env) {
  if (released_ || !request_) {
    throw InvalidField(env, "command", "was released: prepare the request again", 0);
  }
  if (running_) {
    throw InvalidField(env, "command", "is already running: a prepared command runs once at a time", 1);
  }
  handle_->CheckUsable(env, "write");
  request_->Refresh(env);
  return request_.get();
}

Request* NativeCommand::BeginAsyncRun(Napi::Env env) {
  Request* request = BeginRun(env);
  running_ = true;
  pinned_ = true;
  Ref();  // alive until the handle is done with the request
  return request;
}

Napi::Value NativeCommand::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double abort_id = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
  Request* request = BeginRun(env);
  running_ = true;
  Napi::Value outcome = handle_->StartAsync(env, request, abort_id);
  if (running_ && !pinned_) {
    // Still in flight after this call: keep this object (and its request) alive until then.
    pinned_ = true;
    Ref();
  }
  return outcome;
}

Napi::Value NativeCommand::RunSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Request* request = BeginRun(env);
  running_ = true;
  try {
    handle_->RunSync(env, request);
  } catch (...) {
    if (request->slot >= 0) {
      // Abandoned in a slot of a failed sg queue: the kernel still holds it, and the handle
      // finishes it when the fd closes (CloseQueueAndFd -> Dispose -> RunFinished). Until
      // then it is running, and this object (which owns the request) stays alive.
      if (!pinned_) {
        pinned_ = true;
        Ref();
      }
    } else {
      running_ = false;
    }
    throw;
  }
  running_ = false;
  return env.Undefined();
}

Napi::Value NativeCommand::Release(const Napi::CallbackInfo& info) {
  released_ = true;
  if (!running_) request_.reset();
  return info.Env().Undefined();
}

Napi::Value NativeCommand::GetRunning(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), running_);
}

}  // namespace sgv4
