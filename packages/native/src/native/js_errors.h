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

/** An AbortedError (canceled: true): the request was canceled by close(). */
Napi::Error Aborted(Napi::Env env, const std::string& message);

/** A TypeError naming the argument and what it must be. */
Napi::TypeError WrongType(Napi::Env env, const std::string& argument, const std::string& expected);

/** Thrown by request preparation: carries the error until it reaches JS. */
struct PreparationError {
  Napi::Error error;
};

}  // namespace sgv4
