// The core-work knob (core_work.hpp, testbed.hpp): the busy loop runs in core context,
// once per packet the stack sends, in every design and API, and its amount is a count
// that scales exactly with the parameter (never a time). Records carry it.
#include <gtest/gtest.h>

#include <set>

#include "lwbench/harness/design.hpp"
#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/testbed.hpp"

using namespace lwbench;
using namespace lwbench::harness;
using bench::endpoint;
using bench::testbed;

namespace {

class CoreWork : public ::testing::TestWithParam<std::string> {
protected:
    static stack_config config() {
        stack_config c = find_design(GetParam())->config();
        c.pbuf_pool_size = 2048;
        c.recv_queue_depth = 1024;
        return c;
    }
};

std::string name_of(const ::testing::TestParamInfo<std::string>& info) {
    std::string n = info.param;
    for (char& ch : n)
        if (ch == '/') ch = '_';
    return n;
}

}  // namespace

TEST_P(CoreWork, RunsInCoreContextOncePerSentPacketAndScalesAsACount) {
    constexpr int k_sends = 40;
    for (std::uint64_t work : {std::uint64_t{0}, std::uint64_t{1000}, std::uint64_t{3000}}) {
        testbed bed(config(), work);
        ASSERT_TRUE(bed.ok());
        for (auto api : {api_kind::raw, api_kind::netconn, api_kind::socket}) {
            endpoint sender(bed, api, 64);
            ASSERT_TRUE(sender.ok()) << to_string(api);
            for (int i = 0; i < k_sends; ++i) ASSERT_TRUE(sender.send(bench::k_sink_port)) << to_string(api);
        }
        bed.flush();
        const std::uint64_t packets = 3 * k_sends;
        ASSERT_TRUE(wait_until([&] { return bed.sunk.load() == packets; }, std::chrono::seconds(10)));
        EXPECT_EQ(bed.core_work_done(), packets * work) << "work " << work;
        EXPECT_EQ(bed.core_work_outside_core(), 0u) << "the busy loop must run in core context";
    }
}

INSTANTIATE_TEST_SUITE_P(EveryDesign, CoreWork, ::testing::ValuesIn(design_names()), name_of);

TEST(CoreWorkPoint, IsPartOfTheRecordAndTheLabelAndIsValidated) {
    point p;
    p.scenario = scenario_kind::throughput;
    p.cfg = find_design("core_locking/std_mutex")->config();
    p.payload = 64;
    p.core_work = 2000;
    EXPECT_NE(p.label().find("/work=2000"), std::string::npos);
    EXPECT_FALSE(validate(p).has_value());
    run_options o;
    o.repetitions = 1;
    o.counted_repetitions = 0;
    o.ops = 64;
    o.warmup = 8;
    const auto results = run_points({p}, o);
    ASSERT_EQ(results.size(), 1u);
    const record& r = results.front().rec;
    EXPECT_EQ(r.core_work_iterations, 2000u);
    EXPECT_NE(r.label().find("/work=2000"), std::string::npos);
    EXPECT_EQ(record_from_json(to_json(r)).core_work_iterations, 2000u);
    ASSERT_EQ(r.repetition_ops_per_sec.size(), 1u);
    EXPECT_GT(r.repetition_ops_per_sec.front(), 0.0);
    p.core_work = k_max_core_work_iterations + 1;
    EXPECT_TRUE(validate(p).has_value());
    p.core_work = 10;
    p.netif = netif_kind::tap;
    EXPECT_TRUE(validate(p).has_value());
    p.netif = netif_kind::loopback;
    p.scenario = scenario_kind::primitive;
    EXPECT_TRUE(validate(p).has_value());
}

TEST(Designs, DefaultSetHasEachModeAndReasons) {
    std::set<threading_mode> modes;
    for (const auto& name : default_design_names()) {
        const auto d = find_design(name);
        ASSERT_TRUE(d.has_value()) << name;
        EXPECT_FALSE(d->why.empty()) << name;
        EXPECT_EQ(d->config().input, paired_input_mode(d->mode));
        modes.insert(d->mode);
    }
    EXPECT_EQ(modes.size(), std::size(k_threading_modes));
    EXPECT_FALSE(find_design("bogus/kind").has_value());
}
