// Build-time check of libuv_abi.h against the real uv.h (Node's own headers, found by
// CMake in /usr/include/node or next to the node binary). This translation unit emits
// no code: it fails to compile when a hand-written declaration, constant or size no
// longer matches the libuv that Node ships.
//
// - uv.h is included first, so every function in libuv_abi.h is a redeclaration: a
//   different parameter or return type is a "conflicting declaration of C function"
//   error, and a different typedef a "conflicting declaration" error.
// - The constants and the layout facts the addon relies on are static_asserts.
#include <uv.h>

#include <cstddef>
#include <type_traits>

#include "libuv_abi.h"

static_assert(UV_VERSION_MAJOR == 1, "libuv_abi.h is written against libuv 1.x's stable ABI");
static_assert(UV_READABLE == sgv4::uv::kReadable, "UV_READABLE");
static_assert(sizeof(uv_poll_t) <= sgv4::uv::kHandleStorage, "uv_poll_t must fit HandleStorage");
static_assert(sizeof(uv_async_t) <= sgv4::uv::kHandleStorage, "uv_async_t must fit HandleStorage");
static_assert(alignof(uv_poll_t) <= alignof(sgv4::uv::HandleStorage), "uv_poll_t alignment");
static_assert(alignof(uv_async_t) <= alignof(sgv4::uv::HandleStorage), "uv_async_t alignment");
// HandleData() reads `data` as the first word of a handle (UV_HANDLE_FIELDS starts with it).
static_assert(offsetof(uv_handle_t, data) == 0, "uv_handle_t.data is the first field");
static_assert(offsetof(uv_poll_t, data) == 0, "uv_poll_t.data is the first field");
static_assert(offsetof(uv_async_t, data) == 0, "uv_async_t.data is the first field");
// The function types, spelled out once more (the redeclarations above already enforce them).
static_assert(std::is_same_v<decltype(&uv_poll_init), int (*)(uv_loop_t*, uv_poll_t*, int)>, "uv_poll_init");
static_assert(std::is_same_v<decltype(&uv_poll_start), int (*)(uv_poll_t*, int, uv_poll_cb)>, "uv_poll_start");
static_assert(std::is_same_v<decltype(&uv_async_send), int (*)(uv_async_t*)>, "uv_async_send");
static_assert(std::is_same_v<decltype(&uv_close), void (*)(uv_handle_t*, uv_close_cb)>, "uv_close");
