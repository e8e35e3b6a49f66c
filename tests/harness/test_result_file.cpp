// Result files: atomic, never overwriting, no partial file after an interrupted write.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "lwbench/harness/build_info.hpp"
#include "lwbench/harness/result_file.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace lwbench::harness;

namespace {
using lwbench::test::temp_dir;
std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}
std::size_t count_files(const fs::path& dir) {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

TEST(ResultFile, NeverOverwritesAndLeavesNoTemporary) {
    temp_dir d;
    const auto a = write_new_file(d.path, "run", ".json", "first");
    const auto b = write_new_file(d.path, "run", ".json", "second");
    const auto c = write_new_file(d.path, "run", ".json", "third");
    EXPECT_EQ(a.filename(), "run.json");
    EXPECT_EQ(b.filename(), "run-1.json");
    EXPECT_EQ(c.filename(), "run-2.json");
    EXPECT_EQ(slurp(a), "first");
    EXPECT_EQ(slurp(b), "second");
    EXPECT_EQ(count_files(d.path), 3u);  // no .tmp left behind
}

TEST(ResultFile, UnwritableDirectoryThrowsAndCreatesNothing) {
    temp_dir d;
    const fs::path file_in_the_way = d.path / "not_a_dir";
    std::ofstream(file_in_the_way) << "x";
    EXPECT_ANY_THROW(write_new_file(file_in_the_way / "sub", "run", ".json", "data"));
    EXPECT_EQ(count_files(d.path), 1u);
}

TEST(ResultFile, InterruptedWriterLeavesNoFinalFile) {
    // A child starts writing 512 MiB and is killed as soon as its temporary file
    // exists: the final name must never appear, and an earlier file is untouched.
    temp_dir d;
    const auto earlier = write_new_file(d.path, "earlier", ".json", "keep me");
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        const std::string big(512u << 20, 'x');
        write_new_file(d.path, "victim", ".json", big);
        _exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool saw_tmp = false;
    while (!saw_tmp && std::chrono::steady_clock::now() < deadline) {
        for (const auto& e : fs::directory_iterator(d.path))
            if (e.path().filename().string().rfind(".victim.json.tmp.", 0) == 0) saw_tmp = true;
        if (!saw_tmp) std::this_thread::yield();
    }
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(saw_tmp) << "the writer never created its temporary file";
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer finished before it could be interrupted";
    EXPECT_FALSE(fs::exists(d.path / "victim.json"));
    EXPECT_EQ(slurp(earlier), "keep me");
}

TEST(ResultFile, SaveResultsWritesJsonAndCsvPairAndLoadsBack) {
    temp_dir d;
    record r;
    r.scenario = "primitive";
    r.primitive = "checksum";
    r.payload_bytes = 1458;
    r.counters["cycles"] = {std::nullopt, std::nullopt, "not available: x"};
    r.counters["context_switches"] = {0.5, 10, "ok"};
    const auto doc = make_document("unit", "test", {r}, {"a note"});
    EXPECT_EQ(doc["schema"], "lwbench.results");
    EXPECT_EQ(doc["schema_version"], k_schema_version);
    for (const char* k : {"cpu_model", "cpu_count", "kernel", "compiler", "build_type", "git_revision",
                          "library_versions", "hardware_counters_available", "clock"})
        EXPECT_TRUE(doc["environment"].contains(k)) << k;
    // The revision as built is recorded beside the one at run time, and a difference is flagged.
    const auto& env = doc["environment"];
    ASSERT_TRUE(env.contains("build_git_revision"));
    ASSERT_TRUE(env["git_revision_mismatch"].is_boolean());
    EXPECT_EQ(env["build_git_revision"], built_from().git_revision);
    EXPECT_EQ(env["git_revision_mismatch"].get<bool>(),
              env["build_git_revision"] != env["git_revision"] || built_from().git_dirty.value_or(false));
    EXPECT_NE(built_from().git_revision, "");
    const auto p1 = save_results(d.path, doc, {r});
    const auto p2 = save_results(d.path, doc, {r});
    EXPECT_NE(p1, p2);
    EXPECT_TRUE(fs::exists(fs::path(p1).replace_extension(".csv")));
    EXPECT_TRUE(fs::exists(fs::path(p2).replace_extension(".csv")));
    const auto loaded = load_document(p1);
    EXPECT_EQ(record_from_json(loaded["records"][0]).primitive, "checksum");
    const auto csv = slurp(fs::path(p1).replace_extension(".csv"));
    EXPECT_NE(csv.find("context_switches_per_op"), std::string::npos);
    // an unavailable counter is an empty cell, never 0
    const auto row = csv.substr(csv.find('\n') + 1);
    EXPECT_NE(row.find(",0.5,"), std::string::npos);
}

TEST(ResultFile, LoadRejectsForeignDocuments) {
    temp_dir d;
    std::ofstream(d.path / "x.json") << R"({"schema":"other"})";
    std::ofstream(d.path / "y.json") << "{ nope";
    EXPECT_THROW(load_document(d.path / "x.json"), std::runtime_error);
    EXPECT_THROW(load_document(d.path / "y.json"), std::runtime_error);
    EXPECT_THROW(load_document(d.path / "missing.json"), std::runtime_error);
}
