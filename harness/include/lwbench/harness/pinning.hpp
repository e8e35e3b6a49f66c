// pinning.hpp — the one CPU pinning plan of every scenario, for our stack, the
// real-lwIP runners and the Google Benchmark suite alike:
//   none            the scheduler decides;
//   same_core       every thread (tcpip thread and application threads) on CPU 0;
//   separate_cores  the tcpip thread on CPU 0, application thread i on CPU 1 + i mod (n-1).
#pragma once

#include <optional>
#include <string_view>

namespace lwbench::harness {

enum class pinning { none, same_core, separate_cores };
const char* to_string(pinning p) noexcept;
std::optional<pinning> parse_pinning(std::string_view s) noexcept;

int online_cpus();
/// Pins the calling thread to `cpu` (-1: all CPUs). Returns false on failure.
bool pin_current_thread(int cpu);

/// Where the tcpip thread and each application thread go; -1 means "not pinned".
struct cpu_plan {
    pinning pin = pinning::none;
    int cpus = 1;  ///< online CPUs when the plan was made
    static cpu_plan of(pinning p);
    [[nodiscard]] int tcpip() const noexcept;
    [[nodiscard]] int app(int index) const noexcept;
};

/// Pins the calling thread for the scope (no-op for cpu < 0), then allows all CPUs again.
class scoped_pin {
public:
    explicit scoped_pin(int cpu) : _active(cpu >= 0) {
        if (_active) pin_current_thread(cpu);
    }
    ~scoped_pin() {
        if (_active) pin_current_thread(-1);
    }
    scoped_pin(const scoped_pin&) = delete;
    scoped_pin& operator=(const scoped_pin&) = delete;

private:
    bool _active;
};

}  // namespace lwbench::harness
