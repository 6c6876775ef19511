// NativeRing: one JS thread's attachment to a SCSI ring (the owner that opened it, or a
// worker_thread that attached by id). It gives JS the shared control block and the
// registered buffers as ArrayBuffers over native memory, a doorbell, and a completion
// callback driven by one uv_async_t per attachment (one wake per batch of completions).
#pragma once

#include <napi.h>

#include <memory>

#include "ring_core.h"

namespace sgv4 {

struct RingPortState;

class NativeRing : public Napi::ObjectWrap<NativeRing> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** The layout constants, so the TypeScript mirror can be checked against them. */
  static Napi::Value Layout(const Napi::CallbackInfo& info);

  explicit NativeRing(const Napi::CallbackInfo& info);
  ~NativeRing() override;
  /** The attachment ended without a JS call (environment teardown): the state is going away. */
  void Forget() { state_ = nullptr; }

 private:
  Napi::Value Control(const Napi::CallbackInfo& info);
  Napi::Value Buffers(const Napi::CallbackInfo& info);
  Napi::Value MmapBuffer(const Napi::CallbackInfo& info);
  Napi::Value Doorbell(const Napi::CallbackInfo& info);
  Napi::Value Kick(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value Stopped(const Napi::CallbackInfo& info);
  Napi::Value Producer(const Napi::CallbackInfo& info);
  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value Path(const Napi::CallbackInfo& info);

  RingPortState* state_ = nullptr;  // nullptr once detached (the state frees itself)
};

}  // namespace sgv4
