// netns.hpp — entering a network namespace made by `ip netns add` (scripts/netns.sh)
// for one step, without moving the calling thread: a short-lived helper thread joins
// the namespace (setns(2), CLONE_NEWNET is per thread), runs the step and ends. What
// the step creates keeps the namespace it was created in — a TAP attached there
// (TUNSETIFF looks the device up in the caller's namespace), a kernel socket bound
// there — so a process can drive both sides of a link inside a namespace while all of
// its own threads stay where they are.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "lwbench/config.hpp"

LWBENCH_NS_BEGIN

/// Where `ip netns add NAME` puts the namespace's handle.
std::string netns_path(const std::string& name);

/// Why a link inside namespace `name` cannot be made or used here (not root, no
/// /dev/net/tun, no such namespace: "run scripts/netns.sh up first"), or nullopt.
std::optional<std::string> netns_problem(const std::string& name);

/// What a step in a namespace gave: a file descriptor, or why there is none.
struct netns_fd {
    int fd = -1;
    std::string error;  ///< empty when fd >= 0
};

/// Runs `open_fd` on a helper thread inside namespace `name` (empty: no namespace,
/// on the calling thread) and returns what it returned. `open_fd` returns a file
/// descriptor, or -1 with errno set; on failure `error` says what failed, with
/// errno's text, prefixed by `what`. Blocks until the helper thread has ended. Any
/// thread.
netns_fd open_in_netns(const std::string& name, const std::string& what, const std::function<int()>& open_fd);

LWBENCH_NS_END
