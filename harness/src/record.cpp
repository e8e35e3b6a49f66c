// record.cpp — JSON encoding of records (schema: docs/results-schema.md).
#include "lwbench/harness/record.hpp"

#include <cstdio>

namespace lwbench::harness {

using nlohmann::json;

namespace {

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

std::optional<std::string> get_opt_str(const json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return j.at(key).get<std::string>();
}
std::optional<double> get_opt_num(const json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return j.at(key).get<double>();
}

}  // namespace

std::string record::label() const {
    std::string s = stack + ":" + scenario;
    if (primitive) s += "/" + *primitive;
    if (api) s += "/" + *api;
    if (threading_mode) s += "/" + *threading_mode;
    if (input_mode) s += "/in=" + *input_mode;
    if (mailbox_kind) s += "/" + *mailbox_kind;
    if (lock_kind) s += "/" + *lock_kind;
    s += "/" + std::to_string(payload_bytes) + "B/t" + std::to_string(app_threads) + "/" + pinning;
    if (sched_policy && *sched_policy != "other") s += "/sched=" + *sched_policy;
    if (variant) s += "/" + *variant;
    if (netif && *netif != "loopback") s += "/" + *netif;
    if (core_work_iterations) s += "/work=" + std::to_string(core_work_iterations);
    return s;
}

std::string record::sample_basis() const {
    if (ops_per_sample <= 1) return "single operations";
    return "batch means (" + std::to_string(ops_per_sample) + " ops)";
}

std::optional<double> record::clock_share(double clock_pair_ns) const {
    if (!(latency.p50 > 0) || ops_per_sample < 1) return std::nullopt;
    return clock_pair_ns / (ops_per_sample * latency.p50);
}

std::string record::modes_text() const { return harness::modes_text(modes); }

std::string modes_text(const std::vector<latency_mode>& modes) {
    if (modes.size() < 2) return {};
    std::string s = "bimodal:";
    for (std::size_t i = 0; i < modes.size(); ++i) {
        char b[64];
        std::snprintf(b, sizeof b, "%s %.2f µs (%.0f%%)", i ? " /" : "", modes[i].median_ns / 1000,
                      modes[i].share * 100);
        s += b;
    }
    return s;
}

std::optional<std::string> loss_warning(const record& r) {
    if (!r.counts || r.counts->received >= r.counts->sent) return std::nullopt;
    std::string s = r.label() + ": " + std::to_string(r.counts->sent - r.counts->received) + " of " +
                    std::to_string(r.counts->sent) + " datagrams not delivered (";
    if (r.counts->dropped_by_reason.empty()) s += "no drop reason recorded";
    bool first = true;
    for (const auto& [reason, n] : r.counts->dropped_by_reason) {
        s += (first ? "" : ", ") + reason + " " + std::to_string(n);
        first = false;
    }
    return s + ")";
}

json to_json(const record& r) {
    json lat = {{"min", r.latency.min},   {"p50", r.latency.p50}, {"p90", r.latency.p90},
                {"p99", r.latency.p99},   {"p999", r.latency.p999}, {"max", r.latency.max},
                {"mean", r.latency.mean}, {"count", r.latency.count}};
    json ladder = json::array();
    for (const auto& [q, v] : r.latency.ladder) ladder.push_back({q, v});
    lat["ladder"] = ladder;
    json counters = json::object();
    for (const auto& [name, c] : r.counters)
        counters[name] = {{"per_op", opt(c.per_op)}, {"total", opt(c.total)}, {"status", c.status}};
    json counts = nullptr;
    if (r.counts) {
        counts = {{"sent", r.counts->sent},
                  {"received", r.counts->received},
                  {"dropped", r.counts->dropped},
                  {"dropped_by_reason", r.counts->dropped_by_reason}};
        for (const auto& f : k_stack_count_fields) counts[f.key] = opt((*r.counts).*f.member);
    }
    json visits = json::array();
    for (const auto& v : r.visits) visits.push_back({{"round", v.round}, {"slot", v.slot}, {"counted", v.counted}});
    const auto modes_json = [](const std::vector<latency_mode>& list) {
        json out = json::array();
        for (const auto& m : list) out.push_back({{"median_ns", m.median_ns}, {"share", m.share}});
        return out;
    };
    return {
        {"stack", r.stack},
        {"scenario", r.scenario},
        {"api", opt(r.api)},
        {"primitive", opt(r.primitive)},
        {"threading_mode", opt(r.threading_mode)},
        {"input_mode", opt(r.input_mode)},
        {"mailbox_kind", opt(r.mailbox_kind)},
        {"lock_kind", opt(r.lock_kind)},
        {"sched_policy", opt(r.sched_policy)},
        {"payload_bytes", r.payload_bytes},
        {"app_threads", r.app_threads},
        {"pinning", r.pinning},
        {"variant", opt(r.variant)},
        {"netif", opt(r.netif)},
        {"lwip_options", r.lwip_options ? *r.lwip_options : json(nullptr)},
        {"core_work_iterations", r.core_work_iterations},
        {"repetitions", r.repetitions},
        {"ops_per_repetition", r.ops_per_repetition},
        {"ops_per_sample", r.ops_per_sample},
        {"latency_ns", lat},
        {"repetition_p50_ns", r.repetition_p50_ns},
        {"spread",
         {{"median_ns", r.spread.median_ns},
          {"mad_ns", r.spread.mad_ns},
          {"rel_mad", r.spread.rel_mad},
          {"min_ns", r.spread.min_ns},
          {"max_ns", r.spread.max_ns}}},
        {"modes", modes_json(r.modes)},
        {"sample_modes", modes_json(r.sample_modes)},
        {"ops_per_sec", r.ops_per_sec},
        {"repetition_ops_per_sec", r.repetition_ops_per_sec},
        {"bytes_per_sec", r.bytes_per_sec},
        {"offered_per_sec", opt(r.offered_per_sec)},
        {"delivered_per_sec", opt(r.delivered_per_sec)},
        {"counted_repetitions", r.counted_repetitions},
        {"counter_overhead", opt(r.counter_overhead)},
        {"counters", counters},
        {"visits", visits},
        {"stack_counts", counts},
        {"errors", r.errors},
    };
}

record record_from_json(const json& j) {
    record r;
    r.stack = j.at("stack").get<std::string>();
    r.scenario = j.at("scenario").get<std::string>();
    r.api = get_opt_str(j, "api");
    r.primitive = get_opt_str(j, "primitive");
    r.threading_mode = get_opt_str(j, "threading_mode");
    r.input_mode = get_opt_str(j, "input_mode");
    r.mailbox_kind = get_opt_str(j, "mailbox_kind");
    r.lock_kind = get_opt_str(j, "lock_kind");
    r.sched_policy = get_opt_str(j, "sched_policy");
    r.payload_bytes = j.at("payload_bytes").get<int>();
    r.app_threads = j.at("app_threads").get<int>();
    r.pinning = j.at("pinning").get<std::string>();
    r.variant = get_opt_str(j, "variant");
    r.netif = get_opt_str(j, "netif");  // absent in files from before the TAP netif: null
    if (j.contains("lwip_options") && !j.at("lwip_options").is_null()) r.lwip_options = j.at("lwip_options");
    r.core_work_iterations = j.value("core_work_iterations", std::uint64_t{0});  // absent before it existed: none
    r.repetitions = j.at("repetitions").get<int>();
    r.ops_per_repetition = j.at("ops_per_repetition").get<long>();
    r.ops_per_sample = j.at("ops_per_sample").get<int>();
    const auto& lat = j.at("latency_ns");
    r.latency.min = lat.at("min");
    r.latency.p50 = lat.at("p50");
    r.latency.p90 = lat.at("p90");
    r.latency.p99 = lat.at("p99");
    r.latency.p999 = lat.at("p999");
    r.latency.max = lat.at("max");
    r.latency.mean = lat.at("mean");
    r.latency.count = lat.at("count");
    for (const auto& e : lat.at("ladder")) r.latency.ladder.emplace_back(e.at(0).get<double>(), e.at(1).get<double>());
    r.repetition_p50_ns = j.at("repetition_p50_ns").get<std::vector<double>>();
    const auto& sp = j.at("spread");
    r.spread = {sp.at("median_ns"), sp.at("mad_ns"), sp.at("rel_mad"), sp.at("min_ns"), sp.at("max_ns")};
    for (auto [key, list] : {std::pair{"modes", &r.modes}, std::pair{"sample_modes", &r.sample_modes}})
        if (j.contains(key))
            for (const auto& m : j.at(key)) list->push_back({m.at("median_ns").get<double>(), m.at("share").get<double>()});
    r.ops_per_sec = j.at("ops_per_sec");
    if (j.contains("repetition_ops_per_sec"))
        r.repetition_ops_per_sec = j.at("repetition_ops_per_sec").get<std::vector<double>>();
    r.bytes_per_sec = j.at("bytes_per_sec");
    // Fields added after the first release: absent in older files.
    r.offered_per_sec = get_opt_num(j, "offered_per_sec");
    r.delivered_per_sec = get_opt_num(j, "delivered_per_sec");
    r.counted_repetitions = j.value("counted_repetitions", 0);
    r.counter_overhead = get_opt_num(j, "counter_overhead");
    for (const auto& [name, c] : j.at("counters").items())
        r.counters[name] = {get_opt_num(c, "per_op"), get_opt_num(c, "total"), c.at("status").get<std::string>()};
    if (j.contains("visits"))
        for (const auto& v : j.at("visits"))
            r.visits.push_back({v.at("round").get<int>(), v.at("slot").get<int>(), v.at("counted").get<bool>()});
    if (j.contains("stack_counts") && !j.at("stack_counts").is_null()) {
        const auto& c = j.at("stack_counts");
        stack_counts sc;
        for (const auto& f : k_stack_count_fields) sc.*f.member = get_opt_num(c, f.key);  // absent in older files: null
        sc.sent = c.at("sent");
        sc.received = c.at("received");
        sc.dropped = c.at("dropped");
        sc.dropped_by_reason = c.at("dropped_by_reason").get<std::map<std::string, std::uint64_t>>();
        r.counts = sc;
    }
    r.errors = j.at("errors").get<long>();
    return r;
}

std::map<std::string, counter_entry> per_op_counters(const std::vector<counter_value>& values, double ops) {
    std::map<std::string, counter_entry> out;
    for (const auto& v : values) {
        counter_entry e;
        e.status = v.status;
        e.total = v.total;
        if (v.total && ops > 0) e.per_op = *v.total / ops;
        out[v.name] = e;
    }
    return out;
}

}  // namespace lwbench::harness
