// topology.hpp — the machine's CPU topology as Linux's /sys describes it, for the
// environment block of every result file (docs/results-schema.md, "topology").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lwbench::harness {

/// The topology read from `sys_root` (normally /sys; tests pass a fake tree):
///   online           the online CPUs as the kernel lists them ("0-1")
///   cpus             how many CPUs that list names
///   packages         distinct physical_package_id among the online CPUs
///   cores            distinct (package, core_id) pairs: physical cores
///   threads_per_core the most SMT siblings any core has (1: no SMT in use)
///   smt_siblings     each core's sibling list, as the kernel prints it (["0,2", "1,3"])
///   numa_nodes       the online NUMA nodes ("0"), and numa_node_cpus {node: cpulist}
/// Each value that /sys does not give is the string "not available" (a VM or container
/// may hide the topology directory; a kernel without NUMA has no node directory).
nlohmann::json cpu_topology(const std::filesystem::path& sys_root = "/sys");

/// The CPUs a kernel list such as "0-3,8,10-11" names, in order; empty when malformed.
std::vector<int> parse_cpu_list(const std::string& list);

}  // namespace lwbench::harness
