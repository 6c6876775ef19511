// Per-handle counters of the system calls and event-loop wake-ups the addon makes, so a
// benchmark (or a curious user) can see what each command costs. Plain integers: every
// counter is touched on the handle's JS thread only.
#pragma once

#include <napi.h>

#include <cstdint>

namespace sgv4 {

struct HandleStats {
  uint64_t submitted = 0;             // requests handed to the kernel
  uint64_t completed = 0;             // requests the kernel gave back (abandoned ones included)
  uint64_t write_calls = 0;           // write() on sg
  uint64_t writev_calls = 0;          // writev() on sg (batches)
  uint64_t read_calls = 0;            // read()/readv() on sg, EAGAIN answers included
  uint64_t poll_calls = 0;            // poll() while a synchronous sg call waits, or checking a hang-up
  uint64_t ioctl_calls = 0;           // SG_IO (bsg, block, other), on the JS thread or a pool thread
  uint64_t loop_wakeups = 0;          // uv_poll / uv_async callbacks that completed >= 1 request of this handle
  uint64_t immediate_completions = 0; // completed by the drain right after submission (no loop turn)
  uint64_t bounced_bytes = 0;         // bytes copied through bounce buffers (out and in)
  uint64_t library_queued = 0;        // requests that waited in the library queue for a kernel slot

  Napi::Object ToJs(Napi::Env env) const {
    Napi::Object out = Napi::Object::New(env);
    out.Set("submitted", static_cast<double>(submitted));
    out.Set("completed", static_cast<double>(completed));
    out.Set("writeCalls", static_cast<double>(write_calls));
    out.Set("writevCalls", static_cast<double>(writev_calls));
    out.Set("readCalls", static_cast<double>(read_calls));
    out.Set("pollCalls", static_cast<double>(poll_calls));
    out.Set("ioctlCalls", static_cast<double>(ioctl_calls));
    out.Set("loopWakeups", static_cast<double>(loop_wakeups));
    out.Set("immediateCompletions", static_cast<double>(immediate_completions));
    out.Set("bouncedBytes", static_cast<double>(bounced_bytes));
    out.Set("libraryQueued", static_cast<double>(library_queued));
    return out;
  }
};

}  // namespace sgv4
