// stream_check.hpp — the receiving end's check of a TCP scenario's byte stream, the
// same for every stack (ours and real lwIP): the writer sends the same pattern buffer
// of `period` bytes over and over, so the byte at stream offset o is pattern[o % period].
// The receiver feeds every chunk it gets, in order; the check counts the bytes and the
// chunks that differ from the pattern (a lost, duplicated or reordered byte shows up
// as a mismatch). Stack-free; one instance per receiving end, fed by one thread at a
// time (core context or the receiving application thread); counts readable anywhere.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lwbench/harness/aggregate.hpp"

namespace lwbench::harness {

class stream_check {
public:
    stream_check(const void* pattern, std::size_t period)
        : _pattern(static_cast<const std::uint8_t*>(pattern)), _period(period) {}

    /// The next `len` received bytes; false when they differ from the pattern.
    bool feed(const void* data, std::size_t len) noexcept {
        const auto* in = static_cast<const std::uint8_t*>(data);
        bool ok = true;
        std::size_t done = 0;
        while (done < len) {
            const std::size_t n = std::min(len - done, _period - _offset);
            ok = ok && std::memcmp(in + done, _pattern + _offset, n) == 0;
            done += n;
            _offset = (_offset + n) % _period;
        }
        _bytes.store(_bytes.load(std::memory_order_relaxed) + len, std::memory_order_release);
        if (!ok) _mismatches.store(_mismatches.load(std::memory_order_relaxed) + 1, std::memory_order_release);
        return ok;
    }
    /// Bytes fed so far.
    [[nodiscard]] std::uint64_t bytes() const noexcept { return _bytes.load(std::memory_order_acquire); }
    /// Chunks that differed from the pattern.
    [[nodiscard]] std::uint64_t mismatches() const noexcept { return _mismatches.load(std::memory_order_acquire); }

private:
    const std::uint8_t* _pattern;
    std::size_t _period;
    std::size_t _offset = 0;
    std::atomic<std::uint64_t> _bytes{0}, _mismatches{0};
};

/// The accounting of a repetition of transactions (request/response, connections),
/// the same for every stack: chunks that failed the check (`new_mismatches`, during
/// this repetition) are errors too; every op sent a request, and a failed op counts
/// as not answered.
inline void count_transactions(repetition& rep, std::uint64_t new_mismatches) {
    rep.errors += static_cast<long>(new_mismatches);
    rep.sent = static_cast<std::uint64_t>(rep.ops);
    rep.received = static_cast<std::uint64_t>(rep.ops - std::min(rep.ops, rep.errors));
    if (*rep.sent > *rep.received) rep.dropped_by_reason["not_answered"] = *rep.sent - *rep.received;
}

}  // namespace lwbench::harness
