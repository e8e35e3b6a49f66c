// output.hpp — what `lwbench run|reproduce|list` print on stdout, per --format.
//
// stdout carries only the result in the chosen format, so it can be piped into jq,
// pandas or a markdown file; progress, warnings and "wrote <file>" lines go to
// stderr. The tables come from record_table.hpp, the one formatter that also writes
// the CSV files.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lwbench/harness/record.hpp"

namespace lwbench::cli {

enum class output_format { table, json, csv, markdown };

/// The --format names, in the order --help lists them.
const std::vector<std::string>& output_format_names();
/// The format for a name from output_format_names() (validated by the parser).
output_format parse_output_format(const std::string& name);

/// Results of a run: table/markdown: the record table; json: the result document;
/// csv: the CSV that is also written next to the result file.
void print_run(output_format format, const nlohmann::json& document,
               const std::vector<harness::record>& records);

/// The seed comparison: table/markdown: its report (markdown tables with the
/// explanation); json and csv as print_run.
void print_reproduce(output_format format, const nlohmann::json& document,
                     const std::vector<harness::record>& records, const std::string& report);

/// One enumerated option of `lwbench run` and the values it accepts.
struct option_choices {
    std::string option;  ///< "--mode"
    std::vector<std::string> values;
    std::string note;  ///< what the values mean, if not obvious
};

/// `lwbench list`: the scenario catalogue and the accepted values. json: one object
/// {"scenarios": [...], "options": {...}, "cpus": n}; csv: one row per scenario kind.
void print_catalog(output_format format, const std::vector<option_choices>& options, int cpus);

}  // namespace lwbench::cli
