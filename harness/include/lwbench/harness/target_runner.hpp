// target_runner.hpp — the seed experiment on an emulated embedded target.
//
// `lwbench reproduce --target cortex-m3-qemu` runs embedded/run_target.py (it
// builds the firmware — real lwIP 2.1.3 on lwbench's RTOS, both threading
// modes — and runs it under QEMU with instruction-counted time), and turns the
// firmware's raw samples into lwbench records with the same measuring core as
// every other record (harness::accumulator). The records carry
// stack "lwip-<version>", pinning "none" and variant "cortex-m3-qemu" (or
// "cortex-m3-qemu/<firmware variant>", e.g. ".../connect_send_disconnect",
// ".../phase:tcpip_thread", ".../no_checksums").
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lwbench/harness/record.hpp"

namespace lwbench::harness {

struct reproduce_result;

/// The emulated targets lwbench knows.
enum class target_kind { cortex_m3_qemu };

/// "cortex-m3-qemu" -> target_kind; nullopt for an unknown name.
std::optional<target_kind> parse_target(std::string_view name);
std::string_view target_name(target_kind target);
/// Names of all targets, for messages ("cortex-m3-qemu").
std::string target_names();

struct target_options {
    target_kind target = target_kind::cortex_m3_qemu;
    std::filesystem::path driver;     ///< empty: this checkout's embedded/run_target.py
    std::filesystem::path build_dir;  ///< empty: <build>/embedded
    std::function<void(const std::string&)> progress;
};

struct target_run {
    std::vector<record> records;
    std::vector<std::string> notes;  ///< the model (instruction rate), the emulator, the toolchain
};

/// Runs the driver (build + emulated run) and converts its output. Throws
/// std::runtime_error with the driver's message if it fails.
target_run run_target(const target_options& options);

/// Converts a raw target document (schema "lwbench.target_raw", run_target.py's
/// output) into records. Throws std::runtime_error on a malformed document.
target_run target_records(const nlohmann::json& raw);

/// A seed-table row of the emulated target: one API, both modes and raw.
struct target_seed_row {
    std::string label;  ///< e.g. "emulated Cortex-M3 (QEMU mps2-an385, 32 ns/instruction), lwip-2.1.3, socket API"
    std::string short_label;  ///< for the ratio table
    const record *message_passing = nullptr, *core_locking = nullptr, *raw = nullptr;
};
/// The rows for `records` (empty if they hold no target records).
std::vector<target_seed_row> target_seed_rows(const std::vector<record>& records);

/// The target's own section of the report: where the instructions of one call go
/// (API message and context switches, sockets/netconn layers, protocol,
/// checksums), the primitives floor, and the lwIP 1.2 `lwip_sendto` variant.
/// Empty if `records` hold no target records.
std::string target_report(const std::vector<record>& records);

/// Runs the target and adds its records, notes and report section to `result`. If
/// the target cannot run (no cross toolchain or QEMU, a failed build or run),
/// `result` keeps its rows and gains a note saying why the target's are missing.
void add_target_run(reproduce_result& result, const target_options& options);

}  // namespace lwbench::harness
