// design.cpp — the catalogue of thread-safety designs (see design.hpp).
#include "lwbench/harness/design.hpp"

#include <algorithm>

namespace lwbench::harness {

namespace {

/// Why a design is in the crossover map's default subset; a design not listed is not.
struct default_entry {
    std::string_view name, why;
};
constexpr default_entry k_default_set[] = {
    {"message_passing/mutex_cv", "lwIP's message passing as its POSIX port builds it (mutex + condition variable)"},
    {"message_passing/adaptive",
     "message passing with the adaptive mailbox: spins only while the partner runs on another CPU"},
    {"core_locking/std_mutex", "lwIP's default since 2.0.0 (LWIP_TCPIP_CORE_LOCKING) with a plain mutex"},
    {"core_locking/tbb_spin_mutex", "core locking with the lock kind that held up best under contention"},
    {"combining/std_mutex", "the third mode: flat combining, the core holder runs every published call"},
};

}  // namespace

stack_config design::config() const {
    stack_config c;
    c.mode = mode;
    c.input = paired_input_mode(mode);
    c.mailbox = mailbox;
    c.lock = lock;
    return c;
}

const std::vector<design>& design_catalog() {
    static const std::vector<design> catalog = [] {
        std::vector<design> out;
        for (auto mailbox : k_mailbox_kinds) {
            design d;
            d.mode = threading_mode::message_passing;
            d.mailbox = mailbox;
            d.name = std::string(to_string(d.mode)) + "/" + to_string(mailbox);
            out.push_back(d);
        }
        for (auto mode : {threading_mode::core_locking, threading_mode::combining})
            for (auto lock : {lock_kind::std_mutex, lock_kind::tbb_spin_mutex, lock_kind::tbb_queuing_mutex}) {
                design d;
                d.mode = mode;
                d.lock = lock;
                d.name = std::string(to_string(mode)) + "/" + to_string(lock);
                out.push_back(d);
            }
        for (auto& d : out)
            for (const auto& entry : k_default_set)
                if (d.name == entry.name) {
                    d.in_default_set = true;
                    d.why = entry.why;
                }
        return out;
    }();
    return catalog;
}

std::vector<std::string> design_names() {
    std::vector<std::string> names;
    for (const auto& d : design_catalog()) names.push_back(d.name);
    return names;
}

std::vector<std::string> default_design_names() {
    std::vector<std::string> names;
    for (const auto& d : design_catalog())
        if (d.in_default_set) names.push_back(d.name);
    return names;
}

std::optional<design> find_design(std::string_view name) {
    const auto& catalog = design_catalog();
    const auto it = std::find_if(catalog.begin(), catalog.end(), [&](const design& d) { return d.name == name; });
    if (it == catalog.end()) return std::nullopt;
    return *it;
}

}  // namespace lwbench::harness
