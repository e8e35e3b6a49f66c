// temp_dir.hpp — a fresh directory under /tmp for one test, removed with everything in
// it when the test ends (the harness tests' one helper for files on disk).
#pragma once

#include <stdlib.h>

#include <filesystem>

namespace lwbench::test {

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        char tmpl[] = "/tmp/lwbench_test_XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace lwbench::test
