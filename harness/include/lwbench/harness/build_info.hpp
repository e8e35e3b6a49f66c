// build_info.hpp — the git revision the binary was built from (generated at every
// build by cmake/build_info.cmake). Result files record it beside the revision of the
// source tree at run time and flag a mismatch: a binary older than its checkout
// measures code that is no longer what the revision names.
#pragma once

#include <optional>
#include <string>

namespace lwbench::harness {

struct build_info {
    std::string git_revision;        ///< full hash, "unknown" outside a checkout
    std::optional<bool> git_dirty;   ///< uncommitted changes to tracked files at build time
};
const build_info& built_from();

}  // namespace lwbench::harness
