#include "addon.h"

#include <fstream>
#include <sstream>
#include <string>
#include <unordered_set>

#include "device_handle.h"
#include "js_errors.h"
#include "native_command.h"

namespace sgv4 {

int ReadBsgMajor() {
  std::ifstream devices("/proc/devices");
  std::string line;
  bool in_char_section = false;
  while (std::getline(devices, line)) {
    if (line == "Character devices:") {
      in_char_section = true;
      continue;
    }
    if (line == "Block devices:") break;
    if (!in_char_section) continue;
    std::istringstream fields(line);
    int major_number = -1;
    std::string name;
    if (fields >> major_number >> name && name == "bsg") return major_number;
  }
  return -1;
}

Addon::Addon(Napi::Env env, Napi::Object exports) : env_(env) {
  async_context_ = std::make_unique<Napi::AsyncContext>(env, "sgv4:scsi-completion");
  Napi::Function handle = DeviceHandle::Define(env);
  Napi::Function command = NativeCommand::Define(env);
  command_constructor = Napi::Persistent(command);
  DefineAddon(exports, {
                           InstanceValue("NativeHandle", handle, napi_enumerable),
                           InstanceValue("NativeCommand", command, napi_enumerable),
                           InstanceMethod<&Addon::Configure>("configure", napi_enumerable),
                           InstanceMethod<&Addon::AllocateBuffer>("allocateBuffer", napi_enumerable),
                       });
  if (napi_add_async_cleanup_hook(env, AsyncCleanup, this, &cleanup_registration_) != napi_ok) {
    throw Napi::Error::New(env, "sgv4: napi_add_async_cleanup_hook failed");
  }
}

Addon::~Addon() {
  for (DeviceHandle* handle : live_handles) handle->ForgetAddon();
}

std::shared_ptr<CompletionSink> Addon::Sink(Napi::Env env, int* err) {
  if (sink_) return sink_;
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, reinterpret_cast<struct uv_loop_s**>(&loop));
  auto sink = std::make_shared<CompletionSink>(loop, DeliverJobs, this, err);
  if (*err != 0) {
    // Never initialised: nothing to close.
    return nullptr;
  }
  sink_ = sink;
  sink_->SetRefed(refed_jobs_ > 0);
  return sink_;
}

void Addon::AddRefedJobs(int delta) {
  refed_jobs_ += delta;
  if (sink_) sink_->SetRefed(refed_jobs_ > 0);
}

void Addon::DeliverJobs(void* context, std::vector<BlockingJob*>& jobs) {
  auto* addon = static_cast<Addon*>(context);
  Napi::Env env(addon->env_);
  try {
    Napi::HandleScope handle_scope(env);
    Napi::CallbackScope callback_scope(env, addon->async_context());
    std::unordered_set<DeviceHandle*> touched;
    for (BlockingJob* job : jobs) {
      auto* request = static_cast<Request*>(job->owner);
      DeviceHandle* handle = request->handle;
      touched.insert(handle);
      handle->OnJobDone(job);
    }
    for (DeviceHandle* handle : touched) {
      handle->stats().loop_wakeups++;
      handle->AfterProgress();
    }
  } catch (const Napi::Error&) {
    // Only when the environment is terminating: JS cannot run any more.
  }
}

void Addon::AsyncCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* addon = static_cast<Addon*>(arg);
  addon->cleanup_running_ = handle;
  // Copy: Teardown() never erases from the set, but keep iteration independent of it.
  std::vector<DeviceHandle*> handles(addon->live_handles.begin(), addon->live_handles.end());
  for (DeviceHandle* device : handles) device->Teardown();
  if (addon->sink_) {
    addon->BeginHandleClose();
    addon->sink_->Kill([](void* data) { static_cast<Addon*>(data)->EndHandleClose(); }, addon);
    addon->sink_.reset();
  }
  addon->MaybeFinishCleanup();
}

void Addon::EndHandleClose() {
  pending_closes_--;
  MaybeFinishCleanup();
}

void Addon::MaybeFinishCleanup() {
  if (cleanup_running_ == nullptr || pending_closes_ > 0) return;
  napi_async_cleanup_hook_handle handle = cleanup_running_;
  cleanup_running_ = nullptr;
  napi_remove_async_cleanup_hook(handle);
}

Napi::Value Addon::Configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* names[] = {"osError", "invalidField", "aborted"};
  for (size_t i = 0; i < 3; i++) {
    if (!info[i].IsFunction()) throw WrongType(env, names[i], "a function");
  }
  make_os_error = Napi::Persistent(info[0].As<Napi::Function>());
  make_invalid_field = Napi::Persistent(info[1].As<Napi::Function>());
  make_aborted = Napi::Persistent(info[2].As<Napi::Function>());
  return env.Undefined();
}


namespace {

void FinalizeAllocated(napi_env, void*, void* hint) {
  auto* block = static_cast<MemoryBlock*>(hint);
  AllocatedBuffers::Instance().Remove(block);
  block->Release();  // requests still using it hold their own references
}

}  // namespace

Napi::Value Addon::AllocateBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t length = IntegerArg(info, 0, "length", 1, INT32_MAX);
  int err = 0;
  MemoryBlock* block = MemoryBlock::Map(static_cast<size_t>(length), &err);
  if (block == nullptr) throw OsError(env, err, "mmap", "");
  AllocatedBuffers::Instance().Add(block, static_cast<size_t>(length));
  napi_value buffer;
  napi_status status =
      napi_create_external_arraybuffer(env, block->data(), static_cast<size_t>(length), FinalizeAllocated, block, &buffer);
  if (status != napi_ok) {
    AllocatedBuffers::Instance().Remove(block);
    block->Release();
    ThrowIfFailed(env, status);
  }
  return Napi::Value(env, buffer);
}

}  // namespace sgv4

using Sgv4Addon = sgv4::Addon;
NODE_API_ADDON(Sgv4Addon)
