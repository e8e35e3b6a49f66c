// result_file.hpp — environment capture and atomic, never-overwriting result files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lwbench/harness/record.hpp"

namespace lwbench::harness {

/// The source checkout's git revision ("unknown" outside a checkout) and whether it
/// has uncommitted changes to tracked files (nullopt when unknown). Git is asked once
/// per process.
struct git_state {
    std::string revision = "unknown";
    std::optional<bool> dirty;
};
const git_state& source_git_state();

/// Everything docs/results-schema.md lists under "environment".
nlohmann::json capture_environment();

/// The full result document for `records`.
nlohmann::json make_document(const std::string& label, const std::string& command,
                             const std::vector<record>& records, const std::vector<std::string>& notes = {});

/// CSV table of the records (one row each; empty cell where a counter is unavailable).
std::string to_csv(const std::vector<record>& records);

/// Writes `content` to a NEW file `dir/<stem><ext>`: written to a temporary file
/// first, fsync'ed, then hard-linked into place; link(2) refuses to replace an
/// existing file, so on a name clash a suffix "-1", "-2", … is tried instead.
/// Returns the final path. Throws std::system_error on I/O failure (the temporary
/// is removed; no partial file is ever left under a final name).
std::filesystem::path write_new_file(const std::filesystem::path& dir, const std::string& stem,
                                     const std::string& ext, const std::string& content);

/// Writes `<stamp>_<rev>_<label>.json` and `.csv` side by side; returns the JSON path.
std::filesystem::path save_results(const std::filesystem::path& dir, const nlohmann::json& document,
                                   const std::vector<record>& records);

/// Reads a result file (checks schema and version). Throws std::runtime_error with a clear message.
nlohmann::json load_document(const std::filesystem::path& path);

/// UTC "yyyymmddTHHMMSSZ" and ISO-8601 forms of now.
std::string utc_stamp();
std::string utc_iso();

}  // namespace lwbench::harness
