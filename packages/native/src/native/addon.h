// Per-environment state of the addon (one instance per Node environment: main
// thread and every worker_thread get their own), and the JS error factories that
// @sgv4/native's TypeScript loader installs with configure().
#pragma once

#include <napi.h>

#include <set>

namespace sgv4 {

class DeviceHandle;

/**
 * Instance data of one Node environment. Holds the error factories (functions from
 * @sgv4/core: OsError.fromErrno, InvalidFieldError, AbortedError) and the set of live
 * handles, so the environment's cleanup hook can close every fd and unmap every
 * reserved buffer when the environment (e.g. a worker thread) goes away.
 */
class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  static Addon& Of(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

  Napi::FunctionReference handle_constructor;
  Napi::FunctionReference make_os_error;       // (errno, syscall, path) => OsError
  Napi::FunctionReference make_invalid_field;  // (field, rule, value) => InvalidFieldError
  Napi::FunctionReference make_aborted;        // (message) => AbortedError
  std::set<DeviceHandle*> live_handles;
  bool tearing_down = false;

 private:
  Napi::Value Configure(const Napi::CallbackInfo& info);
  Napi::Value BsgMajor(const Napi::CallbackInfo& info);
  static void Cleanup(Addon* addon);
};

/** The dynamic char major of bsg from /proc/devices ("Character devices:" section), or -1. */
int ReadBsgMajor();

}  // namespace sgv4
