#include "addon.h"

#include <fstream>
#include <sstream>
#include <string>

#include "device_handle.h"
#include "js_errors.h"

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

Addon::Addon(Napi::Env env, Napi::Object exports) {
  Napi::Function handle = DeviceHandle::Define(env);
  handle_constructor = Napi::Persistent(handle);
  DefineAddon(exports, {
                           InstanceValue("NativeHandle", handle, napi_enumerable),
                           InstanceMethod<&Addon::Configure>("configure", napi_enumerable),
                           InstanceMethod<&Addon::BsgMajor>("bsgMajor", napi_enumerable),
                       });
  env.AddCleanupHook(Cleanup, this);
}

Addon::~Addon() {
  for (DeviceHandle* handle : live_handles) handle->ForgetAddon();
}

void Addon::Cleanup(Addon* addon) {
  addon->tearing_down = true;
  for (DeviceHandle* handle : addon->live_handles) {
    handle->Teardown();
    handle->ForgetAddon();
  }
  addon->live_handles.clear();
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

Napi::Value Addon::BsgMajor(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ReadBsgMajor()); }

}  // namespace sgv4

using Sgv4Addon = sgv4::Addon;
NODE_API_ADDON(Sgv4Addon)
