// The few libuv entry points the addon uses, declared against libuv 1.x's stable
// ABI. In Node-API mode cmake-js provides only the Node-API headers (node-api-headers),
// not uv.h; the symbols themselves are exported by the node binary, and
// napi_get_uv_event_loop() is Node-API's documented way to reach the loop.
//
// Every declaration below is checked at build time against the real uv.h (Node's
// headers, /usr/include/node) by libuv_abi_check.cc: the C declarations must be
// identical redeclarations, the constants equal, and the handle storage big enough.
#pragma once

#include <cstddef>

extern "C" {
struct uv_loop_s;
struct uv_handle_s;
struct uv_poll_s;
struct uv_async_s;
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_poll_s uv_poll_t;
typedef struct uv_async_s uv_async_t;
typedef void (*uv_poll_cb)(uv_poll_t* handle, int status, int events);
typedef void (*uv_async_cb)(uv_async_t* handle);
typedef void (*uv_close_cb)(uv_handle_t* handle);

int uv_poll_init(uv_loop_t* loop, uv_poll_t* handle, int fd);
int uv_poll_start(uv_poll_t* handle, int events, uv_poll_cb cb);
int uv_poll_stop(uv_poll_t* handle);
int uv_async_init(uv_loop_t*, uv_async_t* async, uv_async_cb async_cb);
int uv_async_send(uv_async_t* async);
void uv_close(uv_handle_t* handle, uv_close_cb close_cb);
void uv_ref(uv_handle_t*);
void uv_unref(uv_handle_t*);
}

namespace sgv4::uv {

constexpr int kReadable = 1;  // UV_READABLE (uv_poll_event)

/**
 * Bytes reserved for one uv_poll_t or uv_async_t. libuv 1.46 on x86-64 needs 160 and 128;
 * libuv_abi_check.cc static_asserts that both fit, so a libuv with bigger handles fails
 * the build instead of corrupting memory.
 */
constexpr size_t kHandleStorage = 256;

/** Storage for one libuv handle, aligned like any libuv struct (pointers and uint64_t). */
struct alignas(16) HandleStorage {
  unsigned char bytes[kHandleStorage];
};

/** Reads or writes the `data` pointer, the first field of every libuv handle (UV_HANDLE_FIELDS). */
inline void*& HandleData(void* handle) { return *static_cast<void**>(handle); }

}  // namespace sgv4::uv
