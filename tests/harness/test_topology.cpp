// CPU topology in the environment block: read from a fake /sys tree (so the test does
// not depend on this machine), "not available" where /sys is silent, and present in
// every capture_environment() together with the core-work calibration.
#include <gtest/gtest.h>

#include <fstream>

#include "lwbench/harness/result_file.hpp"
#include "lwbench/harness/topology.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace lwbench::harness;

namespace {

struct fake_sys {
    lwbench::test::temp_dir tree;
    const fs::path& root = tree.path;
    void write(const std::string& relative, const std::string& text) const {
        const fs::path path = root / relative;
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text << "\n";
    }
    /// CPU `cpu` in package `package`, core `core`, with SMT siblings `siblings`.
    void cpu(int cpu, int package, int core, const std::string& siblings) const {
        const std::string dir = "devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
        write(dir + "physical_package_id", std::to_string(package));
        write(dir + "core_id", std::to_string(core));
        write(dir + "thread_siblings_list", siblings);
    }
};

}  // namespace

TEST(Topology, ParsesKernelCpuLists) {
    EXPECT_EQ(parse_cpu_list("0"), (std::vector<int>{0}));
    EXPECT_EQ(parse_cpu_list("0-3,8,10-11"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_TRUE(parse_cpu_list("").empty());
    EXPECT_TRUE(parse_cpu_list("3-1").empty());
    EXPECT_TRUE(parse_cpu_list("0,x").empty());
}

TEST(Topology, TwoPackagesWithSmtAndTwoNumaNodes) {
    fake_sys sys;
    sys.write("devices/system/cpu/online", "0-7");
    // package 0: cores 0,1 (CPUs 0+4, 1+5); package 1: cores 0,1 (CPUs 2+6, 3+7)
    sys.cpu(0, 0, 0, "0,4");
    sys.cpu(4, 0, 0, "0,4");
    sys.cpu(1, 0, 1, "1,5");
    sys.cpu(5, 0, 1, "1,5");
    sys.cpu(2, 1, 0, "2,6");
    sys.cpu(6, 1, 0, "2,6");
    sys.cpu(3, 1, 1, "3,7");
    sys.cpu(7, 1, 1, "3,7");
    sys.write("devices/system/node/online", "0-1");
    sys.write("devices/system/node/node0/cpulist", "0-1,4-5");
    sys.write("devices/system/node/node1/cpulist", "2-3,6-7");
    const auto t = cpu_topology(sys.root);
    EXPECT_EQ(t["online"], "0-7");
    EXPECT_EQ(t["cpus"], 8);
    EXPECT_EQ(t["packages"], 2);
    EXPECT_EQ(t["cores"], 4);  // core_id repeats across packages: counted per package
    EXPECT_EQ(t["threads_per_core"], 2);
    EXPECT_EQ(t["smt_siblings"], (nlohmann::json{"0,4", "1,5", "2,6", "3,7"}));
    EXPECT_EQ(t["numa_nodes"], 2);
    EXPECT_EQ(t["numa_node_cpus"]["1"], "2-3,6-7");
}

TEST(Topology, NotAvailableWhereSysIsSilent) {
    fake_sys sys;
    sys.write("devices/system/cpu/online", "0-1");
    sys.cpu(0, 0, 0, "0");  // CPU 1 has no topology directory (as in some containers)
    const auto t = cpu_topology(sys.root);
    EXPECT_EQ(t["cpus"], 2);
    for (const char* key : {"packages", "cores", "threads_per_core", "smt_siblings", "numa_nodes", "numa_node_cpus"})
        EXPECT_EQ(t[key], "not available") << key;
    const auto empty = cpu_topology(sys.root / "nothing");
    for (const auto& [key, value] : empty.items()) EXPECT_EQ(value, "not available") << key;
}

TEST(Topology, EveryEnvironmentCarriesTopologyAndCoreWorkCalibration) {
    const auto env = capture_environment();
    ASSERT_TRUE(env.contains("topology"));
    for (const char* key : {"online", "cpus", "packages", "cores", "threads_per_core", "smt_siblings", "numa_nodes",
                            "numa_node_cpus"})
        EXPECT_TRUE(env["topology"].contains(key)) << key;
    ASSERT_TRUE(env["core_work_ns_per_iteration"].is_number());
    EXPECT_GT(env["core_work_ns_per_iteration"].get<double>(), 0.0);
}
