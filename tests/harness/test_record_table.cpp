// The one record formatter (record_table.hpp) and the checks a run makes before it
// measures (result_file.hpp: label_problem, output_dir_problem, the run context).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lwbench/harness/record_table.hpp"
#include "lwbench/harness/result_file.hpp"

namespace fs = std::filesystem;
using namespace lwbench::harness;

namespace {

record sample_record(double p50) {
    record r;
    r.scenario = "send_latency";
    r.api = "socket";
    r.threading_mode = "core_locking";
    r.payload_bytes = 1458;
    r.latency.p50 = p50;
    r.latency.p90 = 216159012.5;  // 6 significant digits would print 2.16159e+08
    r.ops_per_sec = 1.0 / 3.0;
    r.counters["context_switches"] = {0.5, 10, "ok"};
    r.counters["cycles"] = {std::nullopt, std::nullopt, "not available: x"};
    stack_counts counts;
    counts.sent = 200;
    counts.received = 150;
    counts.payload_copies_per_op = 1.0;
    r.counts = counts;
    return r;
}

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> out;
    std::stringstream in(line);
    std::string field;
    while (std::getline(in, field, separator)) out.push_back(field);
    if (!line.empty() && line.back() == separator) out.emplace_back();
    return out;
}

/// header → value of the first data row.
std::map<std::string, std::string> first_row(const std::string& csv) {
    std::stringstream in(csv);
    std::string header, row;
    std::getline(in, header);
    std::getline(in, row);
    const auto keys = split(header, ','), values = split(row, ',');
    EXPECT_EQ(keys.size(), values.size());
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i) out[keys[i]] = values[i];
    return out;
}

}  // namespace

TEST(RecordTable, FullPrecisionReadsBackExactly) {
    for (double v : {216159012.5, 1.0 / 3.0, 4064.8999999999996, 0.0, 1e-300, 123456789012345.0})
        EXPECT_EQ(std::strtod(full_precision(v).c_str(), nullptr), v) << full_precision(v);
    EXPECT_EQ(full_precision(216159012.5), "216159012.5");
}

TEST(RecordTable, CsvCarriesRunMetadataFullPrecisionAndLoss) {
    const run_metadata run{"20261129T000000Z_abcdef12_unit", "abcdef1234", "host,with comma", "2026-11-29T00:00:00Z"};
    const auto csv = format_csv(run, {sample_record(3577.0)});
    EXPECT_EQ(csv.rfind("run_id,git_revision,hostname,created_utc,", 0), 0u) << csv;
    EXPECT_NE(csv.find("\"host,with comma\""), std::string::npos);  // RFC 4180 quoting
    const std::string unquoted = [&] {
        std::string s = csv;
        s.replace(s.find("\"host,with comma\""), 17, "host");
        return s;
    }();
    const auto row = first_row(unquoted);
    EXPECT_EQ(row.at("run_id"), run.run_id);
    EXPECT_EQ(row.at("p90_ns"), "216159012.5");
    EXPECT_EQ(std::strtod(row.at("ops_per_sec").c_str(), nullptr), 1.0 / 3.0);
    EXPECT_EQ(row.at("sent"), "200");
    EXPECT_EQ(row.at("received"), "150");
    EXPECT_EQ(row.at("loss_fraction"), "0.25");
    EXPECT_EQ(row.at("context_switches_per_op"), "0.5");
    EXPECT_EQ(row.at("partial"), "false");
    EXPECT_EQ(row.at("git_revision_mismatch"), "unknown");
}

// Every newer record field has its column, with the record's value: a column that goes
// missing or reads the wrong field fails here.
namespace {

/// A record with every newer field set: batched, bimodal (repetitions and samples), rates,
/// counted repetitions and their overhead, drops by reason.
record record_with_newer_fields() {
    auto r = sample_record(3577.0);
    r.ops_per_sample = 64;
    r.modes = {{5400.0, 0.6}, {8500.0, 0.4}};
    r.sample_modes = {{300.0, 0.7}, {900.0, 0.3}};
    r.offered_per_sec = 1000.5;
    r.delivered_per_sec = 750.25;
    r.counted_repetitions = 3;
    r.counter_overhead = 0.125;
    r.counts->dropped = 50;
    r.counts->dropped_by_reason = {{"recv_queue_full", 48}, {"rx_invalid", 2}};
    return r;
}

}  // namespace

TEST(RecordTable, CsvHasEveryNewerRecordField) {
    const auto r = record_with_newer_fields();
    const auto row = first_row(format_csv({}, {r}));
    EXPECT_EQ(row.at("modes"), r.modes_text());
    const std::map<std::string, std::string> expected = {
        {"sample_basis", "batch means (64 ops)"},
        {"modes", "bimodal: 5.40 µs (60%) / 8.50 µs (40%)"},
        {"sample_modes", "bimodal: 0.30 µs (70%) / 0.90 µs (30%)"},
        {"offered_per_sec", "1000.5"},
        {"delivered_per_sec", "750.25"},
        {"counted_repetitions", "3"},
        {"counter_overhead", "0.125"},
        {"dropped_by_reason", "recv_queue_full=48;rx_invalid=2"},
        {"dropped", "50"},
    };
    for (const auto& [key, value] : expected) EXPECT_EQ(row.at(key), value) << key;

    // Unimodal, single operations, nothing dropped, no counted repetitions measured.
    auto plain = sample_record(100);
    plain.counter_overhead.reset();
    const auto csv = format_csv({}, {plain});
    const auto header = split(csv.substr(0, csv.find('\n')), ',');
    const auto has = [&](const std::string& key) { return std::find(header.begin(), header.end(), key) != header.end(); };
    EXPECT_EQ(first_row(csv).at("sample_basis"), "single operations");
    for (const char* key :
         {"modes", "sample_modes", "dropped_by_reason", "offered_per_sec", "delivered_per_sec", "counter_overhead"})
        EXPECT_FALSE(has(key)) << key << " is empty in every row";
}

TEST(RecordTable, RunFlagsComeFromTheDocumentAndAreRepeatedOnEveryRow) {
    nlohmann::json doc = {{"run_id", "r"}, {"created_utc", "t"}, {"partial", true},
                          {"environment", {{"git_revision", "abc"}, {"hostname", "h"}, {"git_revision_mismatch", true}}}};
    const auto run = run_metadata_of(doc);
    EXPECT_EQ(run.partial, "true");
    EXPECT_EQ(run.git_revision_mismatch, "true");
    const auto csv = format_csv(run, {sample_record(1), sample_record(2)});
    std::stringstream in(csv);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line.rfind("run_id,git_revision,hostname,created_utc,partial,git_revision_mismatch,", 0), 0u);
    for (int i = 0; i < 2; ++i) {
        std::getline(in, line);
        EXPECT_EQ(line.rfind("r,abc,h,t,true,true,", 0), 0u) << line;
    }
    const auto warnings = run_warnings(run);
    EXPECT_NE(warnings.find("partial run"), std::string::npos);
    EXPECT_NE(warnings.find("git revision mismatch"), std::string::npos);

    doc.erase("partial");
    doc["environment"]["git_revision_mismatch"] = false;
    const auto complete = run_metadata_of(doc);
    EXPECT_EQ(complete.partial, "false");
    EXPECT_EQ(complete.git_revision_mismatch, "false");
    EXPECT_EQ(run_warnings(complete), "");
}

TEST(RecordTable, TableShowsTheNewerFieldsWithTheirTitles) {
    const auto table = format_table({record_with_newer_fields()}, text_style::aligned);
    for (const char* text : {"samples", "batch means (64 ops)", "modes", "bimodal: 5.40 µs (60%) / 8.50 µs (40%)",
                             "sample modes", "bimodal: 0.30 µs (70%) / 0.90 µs (30%)", "offered/s", "1000",
                             "delivered/s", "750", "ctr overhead", "12.5%", "dropped by",
                             "recv_queue_full=48;rx_invalid=2"})
        EXPECT_NE(table.find(text), std::string::npos) << text << "\n" << table;
}

TEST(RecordTable, CsvLeavesOutColumnsEmptyInEveryRowButKeepsPartlyEmptyOnes) {
    auto with_counts = sample_record(100);
    auto without_counts = sample_record(200);
    without_counts.counts.reset();
    const auto csv = format_csv({}, {with_counts, without_counts});
    const auto header = split(csv.substr(0, csv.find('\n')), ',');
    const auto has = [&](const std::string& key) { return std::find(header.begin(), header.end(), key) != header.end(); };
    EXPECT_FALSE(has("primitive"));     // null in every row
    EXPECT_FALSE(has("cycles_per_op"));  // not available in every row: not a column of empty cells
    EXPECT_TRUE(has("loss_fraction"));   // empty in one row only: kept, the cell is empty
    EXPECT_NE(csv.find(",,"), std::string::npos);
}

TEST(RecordTable, AlignedTableColumnsLineUpWhateverTheLabelLength) {
    auto long_label = sample_record(3577.0);
    long_label.variant = "a_very_long_variant_name_that_is_wider_than_any_fixed_column_would_be";
    const auto table = format_table({sample_record(320.0), long_label}, text_style::aligned);
    std::vector<std::string> lines;
    std::stringstream in(table);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    ASSERT_EQ(lines.size(), 3u);
    const auto width = [](const std::string& s) {
        return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
    };
    EXPECT_EQ(width(lines[0]), width(lines[1]));
    EXPECT_EQ(width(lines[1]), width(lines[2]));
    EXPECT_NE(lines[1].find("320.0 ns"), std::string::npos);
    EXPECT_NE(lines[2].find("3.58 µs"), std::string::npos);
    EXPECT_NE(lines[1].find("25.0%"), std::string::npos);  // loss
}

TEST(RecordTable, MarkdownTableHasTitlesAndNotAvailableCells) {
    auto r = sample_record(320.0);
    r.counts.reset();
    const auto md = format_table({r, sample_record(330.0)}, text_style::markdown);
    EXPECT_EQ(md.rfind("| scenario point | p50 | p90 |", 0), 0u) << md;
    EXPECT_NE(md.find("| n/a |"), std::string::npos);  // copies not counted for the first record
}

TEST(RunChecks, LabelProblems) {
    EXPECT_FALSE(label_problem("run"));
    EXPECT_FALSE(label_problem("sweep-2.v1_a"));
    EXPECT_TRUE(label_problem(""));
    EXPECT_TRUE(label_problem("a/b"));
    EXPECT_TRUE(label_problem(".hidden"));
    EXPECT_TRUE(label_problem("-x"));
    EXPECT_TRUE(label_problem(std::string(65, 'a')));
}

TEST(RunChecks, OutputDirIsCreatedOrRefusedWithTheReason) {
    char tmpl[] = "/tmp/lwbench_test_XXXXXX";
    const fs::path dir = mkdtemp(tmpl);
    EXPECT_FALSE(output_dir_problem(dir / "new" / "nested"));
    EXPECT_TRUE(fs::is_directory(dir / "new" / "nested"));
    EXPECT_TRUE(fs::is_empty(dir / "new" / "nested"));  // the probe file is gone
    std::ofstream(dir / "file") << "x";
    const auto problem = output_dir_problem(dir / "file" / "sub");
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("cannot create directory"), std::string::npos) << *problem;
    fs::remove_all(dir);
}

TEST(RunChecks, DocumentRecordsTheRunContextAndNotAvailableOtherwise) {
    auto context = begin_run();
    context.warmup_ops = 50;
    context.seed = 7;
    const auto doc = make_document("unit", "test", {sample_record(1)}, {}, context);
    const auto& env = doc.at("environment");
    EXPECT_EQ(env.at("warmup_ops"), 50);
    EXPECT_EQ(env.at("seed"), 7);
    EXPECT_EQ(doc.at("created_utc"), context.started_utc);
    EXPECT_EQ(doc.at("run_id").get<std::string>().rfind(context.started_stamp + "_", 0), 0u);
    for (const char* key : {"cpu_frequency_mhz", "cpu_governor", "affinity", "smt", "nice", "virtualization",
                            "load_average_start", "load_average_end"}) {
        ASSERT_TRUE(env.contains(key)) << key;
        const auto& v = env.at(key);
        EXPECT_TRUE(v.is_string() || v.is_array() || v.is_number_integer() || v.is_object()) << key << ": " << v;
    }
    // Never a fake 0 (the nice level, checked below, may really be 0).
    for (const char* key : {"cpu_frequency_mhz", "cpu_governor", "affinity", "smt"}) EXPECT_NE(env.at(key), 0) << key;
    for (const char* part : {"vm", "container"}) {
        EXPECT_TRUE(env.at("virtualization").at(part).is_string()) << part;
        EXPECT_NE(env.at("virtualization").at(part), "") << part;
    }
    EXPECT_EQ(env.at("nice"), nice(0));
    const auto without = make_document("unit", "test", {});
    EXPECT_EQ(without.at("environment").at("warmup_ops"), "not available");
    EXPECT_EQ(without.at("environment").at("seed"), "not available");
    EXPECT_EQ(without.at("environment").at("load_average_start"), "not available");
}
