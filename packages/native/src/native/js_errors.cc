#include "js_errors.h"

#include "addon.h"

namespace sgv4 {

namespace {

Napi::Error FromFactory(Napi::Env env, Napi::FunctionReference& factory, std::initializer_list<napi_value> args,
                        const std::string& fallback_message) {
  if (!factory.IsEmpty()) {
    Napi::Value made = factory.Call(args);
    if (made.IsObject()) return Napi::Error(env, made);
  }
  return Napi::Error::New(env, fallback_message);
}

}  // namespace

Napi::Error OsError(Napi::Env env, int err, const char* syscall, const std::string& path) {
  Addon& addon = Addon::Of(env);
  Napi::Error error = FromFactory(env, addon.make_os_error,
                                  {Napi::Number::New(env, err), Napi::String::New(env, syscall),
                                   path.empty() ? env.Undefined() : Napi::String::New(env, path)},
                                  std::string(syscall) + " failed: errno " + std::to_string(err));
  if (addon.make_os_error.IsEmpty()) {
    error.Set("errno", Napi::Number::New(env, err));
    error.Set("syscall", Napi::String::New(env, syscall));
  }
  return error;
}

Napi::Error InvalidField(Napi::Env env, const std::string& field, const std::string& rule, double value) {
  Addon& addon = Addon::Of(env);
  if (addon.make_invalid_field.IsEmpty()) {
    return Napi::RangeError::New(env, field + ": " + rule + " (got " + std::to_string(value) + ")");
  }
  return FromFactory(env, addon.make_invalid_field,
                     {Napi::String::New(env, field), Napi::String::New(env, rule), Napi::Number::New(env, value)},
                     field + ": " + rule);
}

Napi::Error Aborted(Napi::Env env, const std::string& what, napi_value reason) {
  Addon& addon = Addon::Of(env);
  Napi::Value why = reason == nullptr ? env.Undefined() : Napi::Value(env, reason);
  Napi::Error error = FromFactory(env, addon.make_aborted, {Napi::String::New(env, what), why}, what + ": canceled");
  if (addon.make_aborted.IsEmpty()) error.Set("canceled", Napi::Boolean::New(env, true));
  return error;
}

Napi::TypeError WrongType(Napi::Env env, const std::string& argument, const std::string& expected) {
  return Napi::TypeError::New(env, argument + ": expected " + expected);
}

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max) {
  Napi::Env env = info.Env();
  if (!info[index].IsNumber()) throw WrongType(env, name, "a number");
  double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= static_cast<double>(min) && value <= static_cast<double>(max)) ||
      value != static_cast<double>(static_cast<int64_t>(value))) {
    throw InvalidField(env, name, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max), value);
  }
  return static_cast<int64_t>(value);
}

void ThrowIfFailed(napi_env env, napi_status status) {
  if (status != napi_ok) throw Napi::Error::New(env);
}

}  // namespace sgv4
