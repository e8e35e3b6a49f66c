// topology.cpp — CPU topology from /sys (see topology.hpp).
#include "lwbench/harness/topology.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lwbench::harness {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const json k_not_available = "not available";

std::optional<std::string> first_line(const fs::path& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ' || line.back() == '\r')) line.pop_back();
    return line;
}

std::optional<int> read_number(const fs::path& path) {
    const auto line = first_line(path);
    if (!line) return std::nullopt;
    int v = 0;
    const auto [end, ec] = std::from_chars(line->data(), line->data() + line->size(), v);
    if (ec != std::errc() || end != line->data() + line->size()) return std::nullopt;
    return v;
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& list) {
    std::vector<int> out;
    std::size_t at = 0;
    const auto number = [&](int& v) {
        const auto [end, ec] = std::from_chars(list.data() + at, list.data() + list.size(), v);
        if (ec != std::errc()) return false;
        at = static_cast<std::size_t>(end - list.data());
        return true;
    };
    while (at < list.size()) {
        int from = 0, to = 0;
        if (!number(from)) return {};
        to = from;
        if (at < list.size() && list[at] == '-') {
            ++at;
            if (!number(to) || to < from) return {};
        }
        for (int cpu = from; cpu <= to; ++cpu) out.push_back(cpu);
        if (at < list.size()) {
            if (list[at] != ',') return {};
            ++at;
        }
    }
    return out;
}

json cpu_topology(const fs::path& sys_root) {
    const fs::path cpu_dir = sys_root / "devices/system/cpu";
    json out = {{"online", k_not_available},       {"cpus", k_not_available},
                {"packages", k_not_available},     {"cores", k_not_available},
                {"threads_per_core", k_not_available}, {"smt_siblings", k_not_available},
                {"numa_nodes", k_not_available},   {"numa_node_cpus", k_not_available}};
    const auto online = first_line(cpu_dir / "online");
    const std::vector<int> cpus = online ? parse_cpu_list(*online) : std::vector<int>{};
    if (!cpus.empty()) {
        out["online"] = *online;
        out["cpus"] = cpus.size();
        std::set<int> packages;
        std::set<std::pair<int, int>> cores;
        std::vector<std::string> siblings;  // in order of first appearance
        std::size_t most_siblings = 0;
        bool complete = true;
        for (int cpu : cpus) {
            const fs::path topology = cpu_dir / ("cpu" + std::to_string(cpu)) / "topology";
            const auto package = read_number(topology / "physical_package_id");
            const auto core = read_number(topology / "core_id");
            const auto sibling_list = first_line(topology / "thread_siblings_list");
            if (!package || !core || !sibling_list) {
                complete = false;
                break;
            }
            packages.insert(*package);
            cores.insert({*package, *core});
            if (std::find(siblings.begin(), siblings.end(), *sibling_list) == siblings.end())
                siblings.push_back(*sibling_list);
            most_siblings = std::max(most_siblings, parse_cpu_list(*sibling_list).size());
        }
        if (complete) {
            out["packages"] = packages.size();
            out["cores"] = cores.size();
            out["threads_per_core"] = most_siblings;
            out["smt_siblings"] = siblings;
        }
    }
    const fs::path node_dir = sys_root / "devices/system/node";
    if (const auto nodes_line = first_line(node_dir / "online")) {
        const auto nodes = parse_cpu_list(*nodes_line);  // the same list syntax
        if (!nodes.empty()) {
            out["numa_nodes"] = nodes.size();
            json node_cpus = json::object();
            for (int node : nodes) {
                const auto list = first_line(node_dir / ("node" + std::to_string(node)) / "cpulist");
                node_cpus[std::to_string(node)] = list ? json(*list) : k_not_available;
            }
            out["numa_node_cpus"] = node_cpus;
        }
    }
    return out;
}

}  // namespace lwbench::harness
