// runner.cpp — the interleaving runner (see scenario.hpp): every round visits every
// point of every stack — timed, and in some rounds counted too — in one fresh random
// order, hands each visit to its scenario kind (or to the external runner), and
// aggregates the repetitions with the measurement core (aggregate.hpp).
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "scenario_kinds.hpp"

namespace lwbench::harness {

namespace {

using namespace scenarios;

rep_out measure(const point& p, const visit& v) {
    if (p.netif == netif_kind::tap) return measure_tap(p, v);
    switch (p.scenario) {
        case scenario_kind::send_latency: return measure_send_latency(p, v);
        case scenario_kind::recv_latency: return measure_recv_latency(p, v);
        case scenario_kind::delivery_latency: return measure_two_threads(p, v, false);
        case scenario_kind::round_trip: return measure_two_threads(p, v, true);
        case scenario_kind::throughput: return measure_throughput(p, v);
        case scenario_kind::primitive: return measure_primitive(p, v);
        case scenario_kind::bulk_tcp: return measure_bulk_tcp(p, v);
        case scenario_kind::request_response_tcp: return measure_request_response_tcp(p, v);
        case scenario_kind::connection_rate_tcp: return measure_connection_rate_tcp(p, v);
    }
    throw std::logic_error("unknown scenario kind");
}

rate_basis basis_of(const point& p) {
    return p.scenario == scenario_kind::throughput || p.scenario == scenario_kind::bulk_tcp ? rate_basis::delivered
                                                                                            : rate_basis::operations;
}

/// What the runner keeps per point (ours or external) across the rounds.
struct point_state {
    accumulator acc;
    std::optional<record> identity;      ///< external points: from their first visit
    std::optional<stack_counts> per_op;  ///< sum over visits of our stack's per-op counts
    int per_op_visits = 0;
    std::vector<double> samples;
    std::vector<visit_position> visits;
};

void add_per_op(point_state& st, const std::optional<stack_counts>& c) {
    if (!c) return;
    if (!st.per_op) st.per_op = stack_counts{};
    for (const auto& f : k_stack_count_fields)
        if (const auto& v = (*c).*f.member) (*st.per_op).*f.member = ((*st.per_op).*f.member).value_or(0) + *v;
    ++st.per_op_visits;
}

std::optional<stack_counts> mean_per_op(const point_state& st) {
    if (!st.per_op || st.per_op_visits == 0) return std::nullopt;
    stack_counts c = *st.per_op;
    const double n = st.per_op_visits;
    for (const auto& f : k_stack_count_fields)
        if (auto& v = c.*f.member) *v /= n;
    return c;
}

}  // namespace

std::vector<point_result> run_points(const std::vector<point>& points, const run_options& opt,
                                     const std::vector<external_point>& external) {
    for (const auto& p : points)
        if (auto problem = validate(p)) throw std::invalid_argument(p.label() + ": " + *problem);
    const std::size_t n = points.size() + external.size();
    const int counted = opt.counted_repetitions < 0 ? default_counted_repetitions(opt.repetitions)
                                                    : opt.counted_repetitions;
    const int rounds = std::max(opt.repetitions, counted);
    std::vector<point_state> state(n);
    // Each point's options: the run's, with the point's own ops and warm-up if it has them.
    std::vector<run_options> point_options(points.size(), opt);
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].ops) point_options[i].ops = *points[i].ops;
        if (points[i].warmup) point_options[i].warmup = *points[i].warmup;
    }
    const auto label_of = [&](std::size_t i) {
        return i < points.size() ? points[i].label() : external[i - points.size()].label;
    };
    struct planned {
        std::size_t index;
        bool counted;
    };
    std::size_t steps = 0;
    for (int r = 0; r < rounds; ++r)
        steps += n * ((r < opt.repetitions ? 1 : 0) + (counted_in_round(r, rounds, counted) ? 1 : 0));
    std::mt19937 rng(opt.seed);
    std::size_t step = 0;
    const auto t_start = std::chrono::steady_clock::now();
    try {
        for (int round = 0; round < rounds; ++round) {
            std::vector<planned> order;
            for (std::size_t i = 0; i < n; ++i) {
                if (round < opt.repetitions) order.push_back({i, false});
                if (counted_in_round(round, rounds, counted)) order.push_back({i, true});
            }
            std::shuffle(order.begin(), order.end(), rng);
            for (std::size_t slot = 0; slot < order.size(); ++slot) {
                throw_if_cancelled(opt.cancel);
                const auto [idx, is_counted] = order[slot];
                ++step;
                if (opt.progress) {
                    const double elapsed =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
                    const double eta = step > 1 ? elapsed / static_cast<double>(step - 1) * static_cast<double>(steps - step + 1)
                                                : 0;
                    char buf[128];
                    std::snprintf(buf, sizeof buf, "[%zu/%zu, round %d/%d, %.0fs elapsed, ~%.0fs left] %s", step, steps,
                                  round + 1, rounds, elapsed, eta, is_counted ? "(counted) " : "");
                    opt.progress(buf + label_of(idx));
                }
                auto& st = state[idx];
                repetition rep;
                if (idx < points.size()) {
                    rep_out r = measure(points[idx], visit{point_options[idx], is_counted});
                    add_per_op(st, r.per_op);
                    rep = std::move(r.rep);
                } else {
                    auto v = external[idx - points.size()].measure(is_counted);
                    throw_if_cancelled(opt.cancel);
                    if (!v) continue;
                    if (!st.identity) st.identity = std::move(v->identity);
                    rep = std::move(v->rep);
                }
                rep.counted = is_counted;
                st.visits.push_back({round, static_cast<int>(slot), is_counted});
                if (opt.keep_samples && !is_counted) st.samples.insert(st.samples.end(), rep.samples_ns.begin(), rep.samples_ns.end());
                st.acc.add(std::move(rep));
            }
        }
    } catch (const cancelled&) {
        if (!opt.keep_partial) throw;
    }
    std::vector<point_result> out;
    for (std::size_t i = 0; i < n; ++i) {
        auto& st = state[i];
        if (st.acc.size() == 0) continue;  // never measured (a cancelled run kept partial)
        point_result pr;
        if (i < points.size()) {
            pr.rec = identity_of(points[i]);
            pr.rec.counts = mean_per_op(st);
            st.acc.finish(pr.rec, static_cast<double>(points[i].payload), basis_of(points[i]));
        } else {
            if (!st.identity) continue;  // the external runner never produced a repetition
            const auto& ext = external[i - points.size()];
            pr.rec = std::move(*st.identity);
            pr.rec.counts.reset();
            st.acc.finish(pr.rec, ext.payload_bytes, ext.basis);
        }
        pr.rec.visits = std::move(st.visits);
        pr.samples_ns = std::move(st.samples);
        out.push_back(std::move(pr));
    }
    return out;
}

}  // namespace lwbench::harness
