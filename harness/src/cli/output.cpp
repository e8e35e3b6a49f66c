// output.cpp — the --format renderings of run, reproduce and list (see output.hpp).
#include "output.hpp"

#include <cstdio>

#include <fmt/core.h>

#include "lwbench/harness/record_table.hpp"
#include "lwbench/harness/result_file.hpp"
#include "lwbench/harness/scenario.hpp"

namespace lwbench::cli {

using harness::csv_field;
using harness::record;
using nlohmann::json;

namespace {

std::string joined(const std::vector<std::string>& names, const char* separator = ", ") {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : separator) + n;
    return s;
}

}  // namespace

const std::vector<std::string>& output_format_names() {
    static const std::vector<std::string> names = {"table", "json", "csv", "markdown"};
    return names;
}

output_format parse_output_format(const std::string& name) {
    for (auto format : {output_format::table, output_format::json, output_format::csv, output_format::markdown})
        if (output_format_names()[static_cast<std::size_t>(format)] == name) return format;
    return output_format::table;
}

void print_run(output_format format, const json& document, const std::vector<record>& records) {
    switch (format) {
        case output_format::table:
            fmt::print("{}{}", format_table(records, harness::text_style::aligned),
                       harness::run_warnings(harness::run_metadata_of(document)));
            break;
        case output_format::markdown: {
            // A blank line ends the table: the warnings must not read as one more row.
            const auto warnings = harness::run_warnings(harness::run_metadata_of(document));
            fmt::print("{}{}{}", format_table(records, harness::text_style::markdown), warnings.empty() ? "" : "\n",
                       warnings);
            break;
        }
        case output_format::json: fmt::print("{}\n", document.dump(1)); break;
        case output_format::csv: fmt::print("{}", harness::to_csv(document, records)); break;
    }
    std::fflush(stdout);
}

void print_reproduce(output_format format, const json& document, const std::vector<record>& records,
                     const std::string& report) {
    if (format == output_format::table || format == output_format::markdown) {
        fmt::print("{}\n", report);
        std::fflush(stdout);
        return;
    }
    print_run(format, document, records);
}

void print_catalog(output_format format, const std::vector<option_choices>& options, int cpus) {
    const auto& catalog = harness::scenario_catalog();
    switch (format) {
        case output_format::json: {
            json scenarios = json::array();
            for (const auto& s : catalog)
                scenarios.push_back({{"name", s.name}, {"description", s.description}, {"parameters", s.parameters}});
            json values = json::object();
            for (const auto& o : options) values[o.option] = o.values;
            fmt::print("{}\n", json{{"scenarios", scenarios}, {"options", values}, {"cpus", cpus}}.dump(1));
            break;
        }
        case output_format::csv:
            fmt::print("scenario,description,parameters\n");
            for (const auto& s : catalog)
                fmt::print("{},{},{}\n", csv_field(s.name), csv_field(s.description), csv_field(joined(s.parameters, " ")));
            break;
        case output_format::markdown:
            fmt::print("| scenario | description | parameters |\n| --- | --- | --- |\n");
            for (const auto& s : catalog)
                fmt::print("| `{}` | {} | {} |\n", s.name, s.description, joined(s.parameters));
            fmt::print("\n| option | values | note |\n| --- | --- | --- |\n");
            for (const auto& o : options) fmt::print("| `{}` | {} | {} |\n", o.option, joined(o.values), o.note);
            fmt::print("\nThis machine: {} CPUs.\n", cpus);
            break;
        case output_format::table:
            fmt::print("Scenario kinds:\n");
            for (const auto& s : catalog)
                fmt::print("  {:<17} {}\n  {:<17} parameters: {}\n", s.name, s.description, "", joined(s.parameters));
            fmt::print("\nValues:\n");
            for (const auto& o : options)
                fmt::print("  {:<14} {}{}\n", o.option, joined(o.values), o.note.empty() ? "" : "  (" + o.note + ")");
            fmt::print("\nThis machine: {} CPUs.\n", cpus);
            break;
    }
    std::fflush(stdout);
}

}  // namespace lwbench::cli
