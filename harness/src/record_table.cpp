// record_table.cpp — the column list and the three renderings (see record_table.hpp).
#include "lwbench/harness/record_table.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>

#include "lwbench/harness/perf_counters.hpp"

namespace lwbench::harness {

namespace {

cell text_of(const std::optional<std::string>& v) { return v ? cell(*v) : cell(); }
cell number_of(const std::optional<double>& v) { return v ? cell(*v) : cell(); }

/// The share of sent datagrams that never arrived, from the record's own counts;
/// empty where nothing was counted.
cell loss_of(const record& r) {
    if (!r.counts || r.counts->sent == 0) return {};
    const auto sent = static_cast<double>(r.counts->sent);
    const auto received = static_cast<double>(r.counts->received);
    return std::max(0.0, (sent - received) / sent);
}

/// "recv_queue_full=902;rx_invalid=3": every drop reason with its count; empty where
/// nothing was dropped (or nothing counted).
cell drop_reasons_of(const record& r) {
    if (!r.counts || r.counts->dropped_by_reason.empty()) return {};
    std::string text;
    for (const auto& [reason, n] : r.counts->dropped_by_reason)
        text += (text.empty() ? "" : ";") + reason + "=" + std::to_string(n);
    return text;
}

/// A column reading one of the stack's counts, or empty where there were none.
template <class Get>
column count_column(std::string key, std::string title, shown_as shown, Get get) {
    return {std::move(key), std::move(title), shown, [get](const record& r) -> cell {
                if (!r.counts) return {};
                return get(*r.counts);
            }};
}

std::vector<column> make_columns() {
    std::vector<column> c = {
        {"point", "scenario point", shown_as::text, [](const record& r) -> cell { return r.label(); }},
        {"stack", "", shown_as::text, [](const record& r) -> cell { return r.stack; }},
        {"scenario", "", shown_as::text, [](const record& r) -> cell { return r.scenario; }},
        {"api", "", shown_as::text, [](const record& r) { return text_of(r.api); }},
        {"primitive", "", shown_as::text, [](const record& r) { return text_of(r.primitive); }},
        {"threading_mode", "", shown_as::text, [](const record& r) { return text_of(r.threading_mode); }},
        {"input_mode", "", shown_as::text, [](const record& r) { return text_of(r.input_mode); }},
        {"mailbox_kind", "", shown_as::text, [](const record& r) { return text_of(r.mailbox_kind); }},
        {"lock_kind", "", shown_as::text, [](const record& r) { return text_of(r.lock_kind); }},
        {"payload_bytes", "", shown_as::integer, [](const record& r) -> cell { return double(r.payload_bytes); }},
        {"app_threads", "", shown_as::integer, [](const record& r) -> cell { return double(r.app_threads); }},
        {"pinning", "", shown_as::text, [](const record& r) -> cell { return r.pinning; }},
        {"variant", "", shown_as::text, [](const record& r) { return text_of(r.variant); }},
        {"netif", "", shown_as::text, [](const record& r) { return text_of(r.netif); }},
        {"core_work_iterations", "", shown_as::integer,
         [](const record& r) -> cell { return static_cast<double>(r.core_work_iterations); }},
        {"repetitions", "", shown_as::integer, [](const record& r) -> cell { return double(r.repetitions); }},
        {"ops_per_repetition", "", shown_as::integer,
         [](const record& r) -> cell { return double(r.ops_per_repetition); }},
        {"ops_per_sample", "", shown_as::integer, [](const record& r) -> cell { return double(r.ops_per_sample); }},
        {"p50_ns", "p50", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.p50; }},
        {"p90_ns", "p90", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.p90; }},
        {"p99_ns", "p99", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.p99; }},
        {"p999_ns", "p99.9", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.p999; }},
        {"min_ns", "", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.min; }},
        {"max_ns", "", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.max; }},
        {"mean_ns", "", shown_as::nanoseconds, [](const record& r) -> cell { return r.latency.mean; }},
        {"samples", "", shown_as::integer, [](const record& r) -> cell { return double(r.latency.count); }},
        // What the percentiles are of: single operations, or batch means (N ops).
        {"sample_basis", "samples", shown_as::text, [](const record& r) -> cell { return r.sample_basis(); }},
        {"rel_mad", "±MAD", shown_as::percent, [](const record& r) -> cell { return r.spread.rel_mad; }},
        // Empty (left out) unless a cell is bimodal: a reader must never see one median for two modes.
        {"modes", "modes", shown_as::text,
         [](const record& r) -> cell {
             auto text = r.modes_text();
             return text.empty() ? cell() : cell(std::move(text));
         }},
        // Empty unless the pooled samples themselves split into two modes (find_sample_modes).
        {"sample_modes", "sample modes", shown_as::text,
         [](const record& r) -> cell {
             auto text = modes_text(r.sample_modes);
             return text.empty() ? cell() : cell(std::move(text));
         }},
        {"ops_per_sec", "ops/s", shown_as::rate, [](const record& r) -> cell { return r.ops_per_sec; }},
        {"bytes_per_sec", "", shown_as::rate, [](const record& r) -> cell { return r.bytes_per_sec; }},
        {"offered_per_sec", "offered/s", shown_as::rate, [](const record& r) { return number_of(r.offered_per_sec); }},
        {"delivered_per_sec", "delivered/s", shown_as::rate,
         [](const record& r) { return number_of(r.delivered_per_sec); }},
        {"counted_repetitions", "", shown_as::integer,
         [](const record& r) -> cell { return double(r.counted_repetitions); }},
        {"counter_overhead", "ctr overhead", shown_as::percent,
         [](const record& r) { return number_of(r.counter_overhead); }},
    };
    // One column per perf event; the ones a reader needs get a title.
    static const std::map<std::string, std::string> titled_counters = {{"context_switches", "ctxsw/op"}};
    for (const auto& name : perf_counters::event_names()) {
        const auto title = titled_counters.find(name);
        c.push_back({name + "_per_op", title == titled_counters.end() ? "" : title->second, shown_as::per_op,
                     [name](const record& r) -> cell {
                         const auto it = r.counters.find(name);
                         return it == r.counters.end() ? cell() : number_of(it->second.per_op);
                     }});
    }
    // The stack's per-op counts (record.hpp's list); the ones a reader needs get a title.
    static const std::map<std::string, std::string> titled_counts = {{"payload_copies_per_op", "copy/op"},
                                                                      {"api_messages_per_op", "api msg/op"}};
    for (const auto& f : k_stack_count_fields) {
        const auto title = titled_counts.find(f.key);
        c.push_back(count_column(f.key, title == titled_counts.end() ? "" : title->second, shown_as::per_op,
                                 [member = f.member](const stack_counts& s) { return number_of(s.*member); }));
    }
    c.push_back(count_column("sent", "", shown_as::integer, [](const stack_counts& s) -> cell { return double(s.sent); }));
    c.push_back(count_column("received", "", shown_as::integer,
                             [](const stack_counts& s) -> cell { return double(s.received); }));
    c.push_back(count_column("dropped", "", shown_as::integer,
                             [](const stack_counts& s) -> cell { return double(s.dropped); }));
    c.push_back({"loss_fraction", "loss", shown_as::percent, loss_of});
    c.push_back({"dropped_by_reason", "dropped by", shown_as::text, drop_reasons_of});
    c.push_back({"errors", "", shown_as::integer, [](const record& r) -> cell { return double(r.errors); }});
    return c;
}

/// The reader's form of a cell.
std::string shown_text(const cell& value, shown_as shown) {
    if (std::holds_alternative<std::monostate>(value)) return "n/a";
    if (const auto* text = std::get_if<std::string>(&value)) return *text;
    const double v = std::get<double>(value);
    char buf[64];
    switch (shown) {
        case shown_as::nanoseconds:
            if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2f ms", v / 1e6);
            else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.2f µs", v / 1e3);
            else std::snprintf(buf, sizeof buf, "%.1f ns", v);
            return buf;
        case shown_as::percent: std::snprintf(buf, sizeof buf, "%.1f%%", v * 100); return buf;
        case shown_as::per_op: std::snprintf(buf, sizeof buf, "%.2f", v); return buf;
        case shown_as::rate:
        case shown_as::integer: std::snprintf(buf, sizeof buf, "%.0f", v); return buf;
        case shown_as::text: break;
    }
    return full_precision(v);
}

/// Display width of UTF-8 text: code points (every character we print is one cell wide).
std::size_t display_width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

std::string padded(const std::string& s, std::size_t width, bool right) {
    const std::string fill(width - std::min(width, display_width(s)), ' ');
    return right ? fill + s : s + fill;
}

/// The columns to print: those with a title (tables only) that are non-empty in at least one row.
std::vector<const column*> used_columns(const std::vector<record>& records, bool titled_only) {
    std::vector<const column*> out;
    for (const auto& c : record_columns()) {
        if (titled_only && c.title.empty()) continue;
        if (std::any_of(records.begin(), records.end(),
                        [&](const record& r) { return !std::holds_alternative<std::monostate>(c.value(r)); }))
            out.push_back(&c);
    }
    return out;
}

std::string markdown_field(const std::string& s) {
    std::string out;
    for (char ch : s) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return out;
}

}  // namespace

const std::vector<column>& record_columns() {
    static const std::vector<column> columns = make_columns();
    return columns;
}

run_metadata run_metadata_of(const nlohmann::json& document) {
    const auto text = [](const nlohmann::json& j, const char* key) {
        return j.is_object() && j.contains(key) && j.at(key).is_string() ? j.at(key).get<std::string>()
                                                                          : std::string("unknown");
    };
    const nlohmann::json environment = document.is_object() && document.contains("environment")
                                           ? document.at("environment")
                                           : nlohmann::json::object();
    const auto flag = [](const nlohmann::json& j, const char* key, const char* missing) {
        if (!j.is_object() || !j.contains(key)) return std::string(missing);
        return j.at(key).is_boolean() ? std::string(j.at(key).get<bool>() ? "true" : "false") : std::string("unknown");
    };
    return {text(document, "run_id"),      text(environment, "git_revision"),
            text(environment, "hostname"), text(document, "created_utc"),
            flag(document, "partial", "false"), flag(environment, "git_revision_mismatch", "unknown")};
}

std::string run_warnings(const run_metadata& run) {
    std::string out;
    if (run.partial == "true") out += "partial run: interrupted by SIGINT; rows hold the repetitions finished before it\n";
    if (run.git_revision_mismatch == "true")
        out += "git revision mismatch: the binary was built from another revision than " + run.git_revision +
               " (or from uncommitted changes)\n";
    return out;
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return quoted + "\"";
}

std::string full_precision(double v) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string format_table(const std::vector<record>& records, text_style style) {
    const auto columns = used_columns(records, true);
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : records) {
        auto& row = rows.emplace_back();
        for (const auto* c : columns) row.push_back(shown_text(c->value(r), c->shown));
    }
    std::string out;
    if (style == text_style::markdown) {
        std::string header = "|", rule = "|";
        for (const auto* c : columns) {
            header += " " + markdown_field(c->title) + " |";
            rule += c->shown == shown_as::text ? " --- |" : " ---: |";
        }
        out += header + "\n" + rule + "\n";
        for (const auto& row : rows) {
            std::string line = "|";
            for (const auto& field : row) line += " " + markdown_field(field) + " |";
            out += line + "\n";
        }
        return out;
    }
    std::vector<std::size_t> width;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        std::size_t w = display_width(columns[i]->title);
        for (const auto& row : rows) w = std::max(w, display_width(row[i]));
        width.push_back(w);
    }
    const auto line_of = [&](const std::vector<std::string>& fields) {
        std::string line;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (i) line += "  ";
            line += padded(fields[i], width[i], columns[i]->shown != shown_as::text);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        return line + "\n";
    };
    std::vector<std::string> titles;
    for (const auto* c : columns) titles.push_back(c->title);
    out += line_of(titles);
    for (const auto& row : rows) out += line_of(row);
    return out;
}

std::string format_csv(const run_metadata& run, const std::vector<record>& records) {
    const auto columns = used_columns(records, false);
    std::string out = "run_id,git_revision,hostname,created_utc,partial,git_revision_mismatch";
    for (const auto* c : columns) out += "," + csv_field(c->key);
    out += "\n";
    const std::string prefix = csv_field(run.run_id) + "," + csv_field(run.git_revision) + "," +
                               csv_field(run.hostname) + "," + csv_field(run.created_utc) + "," +
                               csv_field(run.partial) + "," + csv_field(run.git_revision_mismatch);
    for (const auto& r : records) {
        out += prefix;
        for (const auto* c : columns) {
            const cell v = c->value(r);
            out += ",";
            if (const auto* text = std::get_if<std::string>(&v)) out += csv_field(*text);
            else if (const auto* number = std::get_if<double>(&v)) out += full_precision(*number);
        }
        out += "\n";
    }
    return out;
}

}  // namespace lwbench::harness
