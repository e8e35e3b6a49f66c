// wake_list.cpp — see detail/wake_list.hpp.
#include "lwbench/detail/wake_list.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

LWBENCH_NS_BEGIN
namespace detail {

void futex_wake(const std::atomic<std::uint32_t>* word, int count) noexcept {
    syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

void wake_list::add(const std::atomic<std::uint32_t>& word, int count) noexcept {
    for (std::size_t i = 0; i < _size; ++i) {
        if (_entries[i].word == &word) {
            _entries[i].count = count > all - _entries[i].count ? all : _entries[i].count + count;
            return;
        }
    }
    if (_size == capacity) {
        futex_wake(&word, count);
        return;
    }
    _entries[_size++] = {&word, count};
}

void wake_list::move_to(wake_list& out) noexcept {
    for (std::size_t i = 0; i < _size; ++i) out.add(*_entries[i].word, _entries[i].count);
    _size = 0;
}

void wake_list::issue() noexcept {
    for (std::size_t i = 0; i < _size; ++i) futex_wake(_entries[i].word, _entries[i].count);
    _size = 0;
}

}  // namespace detail
LWBENCH_NS_END
