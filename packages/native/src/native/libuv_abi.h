// The few libuv entry points the addon uses, declared against libuv 1.x's stable
// ABI. In Node-API mode cmake-js provides only the Node-API headers (node-api-headers),
// not uv.h; the symbols themselves are exported by the node binary, and
// napi_get_uv_event_loop() is Node-API's documented way to reach the loop.
// Handle memory is sized with uv_handle_size(); `data` is the first member of every
// libuv handle (uv.h, UV_HANDLE_FIELDS), which is all the addon reads.
#pragma once

#include <cstddef>

extern "C" {
struct uv_loop_s;
struct uv_handle_s;
struct uv_poll_s;
typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_poll_s uv_poll_t;
typedef void (*uv_poll_cb)(uv_poll_t* handle, int status, int events);
typedef void (*uv_close_cb)(uv_handle_t* handle);

size_t uv_handle_size(int type);
int uv_poll_init(uv_loop_t* loop, uv_poll_t* handle, int fd);
int uv_poll_start(uv_poll_t* handle, int events, uv_poll_cb cb);
int uv_poll_stop(uv_poll_t* handle);
void uv_close(uv_handle_t* handle, uv_close_cb close_cb);
void uv_ref(uv_handle_t* handle);
void uv_unref(uv_handle_t* handle);
}

namespace sgv4::uv {

constexpr int kHandleTypePoll = 8;  // UV_POLL in uv_handle_type (libuv 1.x)
constexpr int kReadable = 1;        // UV_READABLE

/** Reads or writes the `data` pointer, the first field of every libuv handle. */
inline void*& HandleData(void* handle) { return *static_cast<void**>(handle); }

}  // namespace sgv4::uv
