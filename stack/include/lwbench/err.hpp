// err.hpp — the stack's closed set of error codes (lwIP's err_t, as an enum class).
//
// Each public function lists the codes it can return. Errors are values; the core
// never throws. The socket layer translates them to errno once, in sockets.cpp.
#pragma once

#include <cstdint>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN

enum class err : std::int8_t {
    ok = 0,
    mem,         ///< out of memory: pool or mailbox exhausted
    buf,         ///< buffer error (headers cannot be added)
    timeout,     ///< a wait timed out
    rte,         ///< no route to the destination
    inprogress,  ///< operation in progress
    val,         ///< illegal value
    wouldblock,  ///< non-blocking operation would block
    use,         ///< address/port in use
    already,     ///< already connecting / already done
    isconn,      ///< already connected
    conn,        ///< not connected
    if_,         ///< low-level netif error (netif down)
    abrt,        ///< connection aborted
    rst,         ///< connection reset
    clsd,        ///< connection closed
    arg,         ///< illegal argument (null pointer, bad handle)
    msgsize,     ///< datagram larger than the MTU allows (no fragmentation)
};

/// The enumerator's name ("ok", "mem", …), never null.
const char* err_name(err e) noexcept;

/// Minimal Result type: a value or an err (C++23's std::expected is not in C++20).
template <class T>
class result {
public:
    result(T value) : _value(static_cast<T&&>(value)), _err(err::ok) {}  // NOLINT: implicit by design
    result(err e) : _value(), _err(e) {}                                 // NOLINT
    [[nodiscard]] bool ok() const noexcept { return _err == err::ok; }
    explicit operator bool() const noexcept { return ok(); }
    [[nodiscard]] err error() const noexcept { return _err; }
    T& value() & { return _value; }
    T&& value() && { return static_cast<T&&>(_value); }
    T& operator*() & { return _value; }
    T* operator->() { return &_value; }

private:
    T _value;
    err _err;
};

LWBENCH_NS_END
