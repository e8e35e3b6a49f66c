// design.hpp — thread-safety designs as named data: a threading mode with the mailbox
// and core-lock kinds it runs with, for sweeps that compare designs rather than the
// full product of modes × mailboxes × locks (`lwbench run --design`, `lwbench crossover`).
//
// The catalogue names each design "<mode>/<the kind it contends on>": message passing
// by its mailbox kind (its callers queue on the tcpip mailbox), core locking and
// combining by their lock kind (their callers queue on the core lock); the other kind
// keeps its default. The input mode is always the one lwIP pairs with the mode
// (paired_input_mode). `in_default_set` marks the crossover map's default subset: the
// default of each mode plus the best-known variants, each with the reason it is there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lwbench/tcpip.hpp"

namespace lwbench::harness {

struct design {
    std::string name;  ///< "message_passing/mutex_cv", "core_locking/tbb_spin_mutex", …
    threading_mode mode = threading_mode::core_locking;
    mailbox_kind mailbox = mailbox_kind::mutex_cv;
    lock_kind lock = lock_kind::std_mutex;
    bool in_default_set = false;
    std::string why;  ///< why it is in the default set (empty if it is not)

    /// The stack configuration of this design (pools and everything else at their defaults).
    [[nodiscard]] stack_config config() const;
};

/// Every design: message passing with each mailbox kind, core locking and combining
/// with each lock kind.
const std::vector<design>& design_catalog();
/// The names of design_catalog(), in its order.
std::vector<std::string> design_names();
/// The names of the default subset (in_default_set), in catalogue order.
std::vector<std::string> default_design_names();
/// The design called `name`, or nullopt.
std::optional<design> find_design(std::string_view name);

}  // namespace lwbench::harness
