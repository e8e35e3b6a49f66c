// netns.cpp — one step inside a network namespace, on a helper thread (netns.hpp).
#include "lwbench/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

LWBENCH_NS_BEGIN

std::string netns_path(const std::string& name) { return "/run/netns/" + name; }

std::optional<std::string> netns_problem(const std::string& name) {
    if (::geteuid() != 0) return "needs root (network namespaces and TAP devices)";
    struct stat st{};
    if (::stat("/dev/net/tun", &st) != 0 || !S_ISCHR(st.st_mode)) return "/dev/net/tun is missing";
    if (name.empty() || name.find('/') != std::string::npos) return "bad namespace name '" + name + "'";
    if (::stat(netns_path(name).c_str(), &st) != 0)
        return "network namespace '" + name + "' does not exist (run scripts/netns.sh up first)";
    return std::nullopt;
}

netns_fd open_in_netns(const std::string& name, const std::string& what, const std::function<int()>& open_fd) {
    const auto failed = [&](const std::string& step, int error) {
        return netns_fd{-1, what + ": " + step + ": " + std::strerror(error)};
    };
    if (name.empty()) {
        const int fd = open_fd();
        return fd >= 0 ? netns_fd{fd, {}} : failed("in this namespace", errno);
    }
    netns_fd out;
    // A thread of its own: the namespace it joins dies with it, the caller's stays.
    std::thread helper([&] {
        const int ns = ::open(netns_path(name).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0) {
            out = failed("open " + netns_path(name), errno);
            return;
        }
        const int joined = ::setns(ns, CLONE_NEWNET);
        const int join_error = errno;
        ::close(ns);
        if (joined != 0) {
            out = failed("setns " + name, join_error);
            return;
        }
        const int fd = open_fd();
        out = fd >= 0 ? netns_fd{fd, {}} : failed("in namespace " + name, errno);
    });
    helper.join();
    return out;
}

LWBENCH_NS_END
