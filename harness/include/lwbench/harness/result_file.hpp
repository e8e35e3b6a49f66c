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

/// The machine's state that docs/results-schema.md lists under "environment" and
/// that does not depend on the run (CPU, kernel, build, frequency, affinity, …).
/// A value that cannot be read is the string "not available", never a fake 0.
nlohmann::json capture_environment();

/// The 1, 5 and 15 minute load averages now, to the 2 decimals /proc/loadavg shows
/// (an array of 3 numbers), or "not available". The one formatter of the load for
/// result files and, through the extension, for what Python writes (machine.py).
nlohmann::json load_average();

/// What a run knows before it measures anything: its start time and the load
/// average at that moment (so the document can show the load at both ends), and
/// the settings that shape every record (warm-up, seed; nullopt: not applicable).
struct run_context {
    std::string started_utc;  ///< ISO-8601; empty: the document's creation time
    std::string started_stamp;  ///< yyyymmddTHHMMSSZ of the same instant (run id)
    nlohmann::json load_average_start = "not available";
    std::optional<long> warmup_ops;
    std::optional<unsigned> seed;
};
/// Captures the start of a run; call it before measuring.
run_context begin_run();

/// The full result document for `records`: environment (with the load average now,
/// at the end of the run), `created_utc` (the run's start) and `run_id`
/// (`<start stamp>_<short revision>_<label>`, the result file's name).
nlohmann::json make_document(const std::string& label, const std::string& command,
                             const std::vector<record>& records, const std::vector<std::string>& notes = {},
                             const run_context& context = {});

/// The CSV form of a document's records (record_table.hpp's format_csv with the
/// document's run metadata): what save_results writes next to the JSON.
std::string to_csv(const nlohmann::json& document, const std::vector<record>& records);

/// A label is used in file names: 1..64 of [A-Za-z0-9._-], not starting with '.' or
/// '-'. Returns what is wrong, or nullopt.
std::optional<std::string> label_problem(const std::string& label);

/// Makes sure results can be written to `dir` before anything is measured: creates
/// it if missing and creates and removes a probe file in it. Returns what is wrong
/// (e.g. "cannot create directory 'x': Not a directory"), or nullopt.
std::optional<std::string> output_dir_problem(const std::filesystem::path& dir);

/// Writes `content` to a NEW file `dir/<stem><ext>`: written to a temporary file
/// first, fsync'ed, then hard-linked into place; link(2) refuses to replace an
/// existing file, so on a name clash a suffix "-1", "-2", … is tried instead.
/// Returns the final path. Throws std::system_error on I/O failure (the temporary
/// is removed; no partial file is ever left under a final name).
std::filesystem::path write_new_file(const std::filesystem::path& dir, const std::string& stem,
                                     const std::string& ext, const std::string& content);

/// Writes `<run_id>.json` and `.csv` side by side; returns the JSON path.
std::filesystem::path save_results(const std::filesystem::path& dir, const nlohmann::json& document,
                                   const std::vector<record>& records);

/// Reads a result file (checks schema and version). Throws std::runtime_error with a clear message.
nlohmann::json load_document(const std::filesystem::path& path);

/// UTC "yyyymmddTHHMMSSZ" and ISO-8601 forms of now.
std::string utc_stamp();
std::string utc_iso();

}  // namespace lwbench::harness
