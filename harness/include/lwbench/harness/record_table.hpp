// record_table.hpp — the one formatter for records.
//
// One list of column definitions serves every tabular form of a run: the aligned
// terminal table, the markdown table, and the CSV file (written next to each result
// file and printed by `--format csv`). Each column says where its value comes from
// (a function of the record), what it is called in a file (a snake_case key with its
// unit) and, if a reader should see it, its short table title and how to show the
// number. Adding a record field to every output is one entry in record_columns().
//
// Rules shared by all forms: a value that was not measured is an empty cell ("n/a"
// in text, empty in CSV) — never a 0 that looks real; a column empty in every row
// is left out; CSV numbers are written at full precision (they read back exactly).
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lwbench/harness/record.hpp"

namespace lwbench::harness {

/// One cell: empty (not measured / not applicable), a number, or text.
using cell = std::variant<std::monostate, double, std::string>;

/// How a number is shown to a reader. Files always get the full-precision number.
enum class shown_as { text, nanoseconds, percent, rate, per_op, integer };

struct column {
    std::string key;    ///< CSV header: snake_case, with its unit (`p50_ns`)
    std::string title;  ///< table and markdown header; empty: the column is in files only
    shown_as shown = shown_as::text;
    std::function<cell(const record&)> value;
};

/// Every column, in output order (identity, measurement, counters, counts).
const std::vector<column>& record_columns();

/// Facts about the run that every CSV row repeats, so rows of several runs can be
/// concatenated and still be told apart — and a row cut out of its file still says
/// whether its run was cut short or built from another revision. These are facts of
/// the document, not of a record, so they live here and not in record_columns().
struct run_metadata {
    std::string run_id;
    std::string git_revision;
    std::string hostname;
    std::string created_utc;
    std::string partial = "false";                  ///< "true": the run was interrupted (--keep-partial)
    std::string git_revision_mismatch = "unknown";  ///< "true"/"false"; "unknown" in files without it
};
/// Reads them from a result document (missing keys give "unknown"; a missing
/// "partial" means a complete run).
run_metadata run_metadata_of(const nlohmann::json& document);

enum class text_style { aligned, markdown };

/// The reader's table: columns with a title, numbers with units, aligned by display
/// width (UTF-8 aware) or as a GitHub markdown table. Ends with a newline.
std::string format_table(const std::vector<record>& records, text_style style);

/// Lines a reader of a table must see about the run itself (interrupted, or built from
/// another revision than the one named), each ending with a newline; empty otherwise.
std::string run_warnings(const run_metadata& run);

/// RFC 4180 CSV: the run metadata columns, then every non-empty column of
/// record_columns(), numbers at full precision. Ends with a newline.
std::string format_csv(const run_metadata& run, const std::vector<record>& records);

/// One CSV field: as is, or quoted (RFC 4180) when it holds a comma, quote or newline.
std::string csv_field(const std::string& text);

/// The shortest text that reads back as exactly `v` (never "2.16159e+08").
std::string full_precision(double v);

}  // namespace lwbench::harness
