// bulk_streams.hpp — the bookkeeping of bulk_tcp's parallel connections, one source for
// both stacks: lwbench's bulk_tcp (harness/src/scenarios/bulk_tcp.cpp) and the real-lwIP
// runner's (real_lwip/src/tcp_scenarios.cpp) count writes, delivered bytes and
// mismatches with this, so their records mean the same:
//   - ops are writes, all connections' together;
//   - sent = bytes written / write size, received = bytes the receiving ends got and
//     checked / write size (delivered bytes == written bytes shows as sent == received;
//     the difference is dropped_by_reason["not_delivered"]);
//   - every chunk a receiving end found different from the pattern is an error.
// Stack-free (a template over each stack's connection pair), like kinds.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "lwbench/harness/aggregate.hpp"

namespace lwbench::harness {

/// `Pair` is one connection of a stack: bool write(std::size_t len) (the client queues
/// len bytes of its pattern, blocking), std::uint64_t server_bytes() const (bytes the
/// receiving end got and checked, readable from any thread) and std::uint64_t
/// mismatches() const.
template <class Pair>
class bulk_streams {
public:
    /// `pairs` (one per connection) outlive this; every write is `write_size` bytes.
    bulk_streams(const std::vector<std::unique_ptr<Pair>>& pairs, std::size_t write_size)
        : _pairs(pairs), _size(write_size), _written(pairs.size(), 0) {}

    /// Connection i writes once; only connection i's sender thread calls it (or the
    /// measuring thread while no sender runs).
    bool write(std::size_t i) {
        const bool ok = _pairs[i]->write(_size);
        _written[i] += ok ? _size : 0;
        return ok;
    }
    /// Bytes written on every connection (while no sender runs).
    [[nodiscard]] std::uint64_t written() const { return sum([&](std::size_t i) { return _written[i]; }); }
    /// Bytes every receiving end got and checked (any time).
    [[nodiscard]] std::uint64_t received() const { return sum([&](std::size_t i) { return _pairs[i]->server_bytes(); }); }
    [[nodiscard]] std::uint64_t mismatches() const { return sum([&](std::size_t i) { return _pairs[i]->mismatches(); }); }
    /// Every byte written has arrived (while no sender runs).
    [[nodiscard]] bool drained() const { return received() >= written(); }

    /// The start of a repetition (the previous one drained).
    void begin_repetition() {
        _base_written = written();
        _base_received = received();
        _base_mismatches = mismatches();
    }
    /// The end of a repetition (senders joined): its sent, received, not_delivered and
    /// mismatches (added to rep.errors) since begin_repetition.
    void end_repetition(repetition& rep) const {
        rep.errors += static_cast<long>(mismatches() - _base_mismatches);
        rep.sent = (written() - _base_written) / _size;
        rep.received = (received() - _base_received) / _size;
        if (*rep.sent > *rep.received) rep.dropped_by_reason["not_delivered"] = *rep.sent - *rep.received;
    }

private:
    template <class Of>
    std::uint64_t sum(const Of& of) const {
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < _pairs.size(); ++i) total += of(i);
        return total;
    }

    const std::vector<std::unique_ptr<Pair>>& _pairs;
    std::size_t _size;
    std::vector<std::uint64_t> _written;  ///< each connection's, written by its sender thread
    std::uint64_t _base_written = 0, _base_received = 0, _base_mismatches = 0;
};

}  // namespace lwbench::harness
