// Building the typed JS errors the addon throws or rejects with. The classes come
// from @sgv4/core through the factories in Addon; before configure() runs the addon
// falls back to plain Error objects carrying the same properties.
#pragma once

#include <napi.h>

#include <string>

namespace sgv4 {

/** An OsError (errno, code, syscall, path) for a failed system call. */
Napi::Error OsError(Napi::Env env, int err, const char* syscall, const std::string& path);

/** An InvalidFieldError (a RangeError naming the field and the rule it broke). */
Napi::Error InvalidField(Napi::Env env, const std::string& field, const std::string& rule, double value);

/**
 * An AbortedError (canceled: true): `what` says which request and why, e.g.
 * "READ on /dev/sg0 (abandoned in the kernel ...)"; `reason` is the AbortSignal's reason
 * (undefined when none).
 */
Napi::Error Aborted(Napi::Env env, const std::string& what, napi_value reason = nullptr);

/** A TypeError naming the argument and what it must be. */
Napi::TypeError WrongType(Napi::Env env, const std::string& argument, const std::string& expected);

/** A JS argument that must be an integer in [min, max]: TypeError / InvalidFieldError naming it otherwise. */
int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max);

/** Throws a JS error for a failed napi call (the pending exception, if any, else a generic one). */
void ThrowIfFailed(napi_env env, napi_status status);

}  // namespace sgv4
