// module.cpp — the private extension `_lwbench`: the scenario runner, the seed
// comparison, result files, and a live Stack with its mode switch.
//
// Exceptions stop here: C++ errors become Python exceptions with their message
// (ValueError for bad names/values, RuntimeError otherwise). Long runs execute on a
// worker thread with the GIL released; the calling (main) thread wakes every 100 ms
// to let Python handle signals, so Ctrl-C cancels the run (KeyboardInterrupt) at
// the next check (the measurement core honours it within a second, inside a
// repetition) and every stack the run created is torn down normally; the
// interpreter carries on.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

#include "lwbench/harness/reproduce.hpp"
#include "lwbench/harness/result_file.hpp"
#include "lwbench/harness/scenario.hpp"
#include "lwbench/harness/timing.hpp"
#include "lwbench/loopback_netif.hpp"
#include "lwbench/netconn.hpp"
#include "lwbench/sockets.hpp"

namespace py = pybind11;
using namespace lwbench;
using namespace lwbench::harness;

namespace {

py::object to_py(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }
std::string joined(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

nlohmann::json from_py(const py::handle& o) {
    return nlohmann::json::parse(py::module_::import("json").attr("dumps")(o).cast<std::string>());
}

template <class E, class Parse>
E parse_or_throw(const std::string& s, Parse parse, const char* what, const std::string& allowed) {
    if (auto v = parse(s)) return *v;
    throw py::value_error(std::string("unknown ") + what + " '" + s + "' (choose from: " + allowed + ")");
}

/// "a, b, c": the names of every value in `values` (the stack's own tables).
template <class Range>
std::string joined_names(const Range& values) {
    std::string out;
    for (auto v : values) out += (out.empty() ? "" : ", ") + std::string(to_string(v));
    return out;
}

stack_config make_config(const std::string& mode, const std::string& input, const std::string& mailbox,
                         const std::string& lock) {
    stack_config c;
    c.mode = parse_or_throw<threading_mode>(mode, parse_threading_mode, "threading mode", joined_names(k_threading_modes));
    if (input == "auto") {
        c.input = paired_input_mode(c.mode);
    } else {
        c.input = parse_or_throw<input_mode>(input, parse_input_mode, "input mode", joined_names(k_input_modes) + ", auto");
    }
    c.mailbox = parse_or_throw<mailbox_kind>(mailbox, parse_mailbox_kind, "mailbox kind", "mutex_cv, tbb_queue, spin_then_block, adaptive");
    c.lock = parse_or_throw<lock_kind>(lock, parse_lock_kind, "lock kind", "std_mutex, tbb_spin_mutex, tbb_queuing_mutex");
    return c;
}

point make_point(const py::dict& d) {
    const auto get = [&](const char* k, const char* def) {
        return d.contains(k) ? py::str(d[k]).cast<std::string>() : std::string(def);
    };
    for (const auto& item : d) {
        const auto key = py::str(item.first).cast<std::string>();
        static const std::set<std::string> known = {"scenario", "api", "primitive", "mode", "input_mode", "mailbox",
                                                    "lock", "size", "threads", "pinning", "netif", "sched"};
        if (!known.count(key)) throw py::value_error("unknown scenario parameter '" + key + "'");
    }
    point p;
    std::vector<std::string> scenario_names;
    for (const auto& info : scenario_catalog()) scenario_names.push_back(info.name);
    p.scenario = parse_or_throw<scenario_kind>(get("scenario", "send_latency"), parse_scenario_kind, "scenario",
                                               joined(scenario_names));
    p.api = parse_or_throw<api_kind>(get("api", "socket"), parse_api_kind, "API", joined(api_names()));
    if (p.scenario == scenario_kind::primitive) {
        if (!d.contains("primitive")) throw py::value_error("scenario 'primitive' needs primitive=<name>");
        p.primitive =
            parse_or_throw<primitive_kind>(get("primitive", ""), parse_primitive_kind, "primitive", joined(primitive_names()));
    }
    p.cfg = make_config(get("mode", "core_locking"), get("input_mode", "auto"), get("mailbox", "mutex_cv"),
                        get("lock", "std_mutex"));
    const long size = d.contains("size") ? d["size"].cast<long>() : 1458;
    const long threads = d.contains("threads") ? d["threads"].cast<long>() : 1;
    if (size < 1) throw py::value_error("size must be at least 1 byte, got " + std::to_string(size));
    p.payload = static_cast<std::size_t>(size);
    p.threads = static_cast<int>(threads);
    p.pin = parse_or_throw<pinning>(get("pinning", "none"), parse_pinning, "pinning", "none, same_core, separate_cores");
    p.netif = parse_or_throw<netif_kind>(get("netif", "loopback"), parse_netif_kind, "netif",
                                         joined_names(all_netif_kinds()));
    p.cfg.sched = parse_or_throw<sched_policy>(get("sched", "other"), parse_sched_policy, "sched",
                                               joined_names(k_sched_policies));
    if (auto problem = validate(p)) throw py::value_error(*problem);
    return p;
}

/// Runs `work` on a worker thread without the GIL; the caller polls for signals.
template <class R>
R run_interruptible(std::function<R(const std::atomic<bool>*)> work) {
    std::atomic<bool> cancel{false};
    std::future<R> fut;
    {
        py::gil_scoped_release nogil;
        fut = std::async(std::launch::async, [&] { return work(&cancel); });
    }
    for (;;) {
        std::future_status st;
        {
            py::gil_scoped_release nogil;
            st = fut.wait_for(std::chrono::milliseconds(100));
        }
        if (st == std::future_status::ready) break;
        if (PyErr_CheckSignals() != 0) {  // KeyboardInterrupt (or another handler raised)
            cancel.store(true);
            {
                py::gil_scoped_release nogil;
                fut.wait();
            }
            try {
                (void)fut.get();
            } catch (...) {
            }
            throw py::error_already_set();
        }
    }
    try {
        return fut.get();
    } catch (const cancelled&) {
        throw py::error_already_set();
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
}

/// A live stack with a loopback and two sockets, for the mode switch from Python.
class py_stack {
public:
    py_stack(const std::string& mode, const std::string& input, const std::string& mailbox, const std::string& lock)
        : _s(make_config(mode, input, mailbox, lock)), _lo(_s) {
        _tx = lwip_socket(_s, AF_INET, SOCK_DGRAM, 0);
        _rx = lwip_socket(_s, AF_INET, SOCK_DGRAM, 0);
        _to.sin_family = AF_INET;
        _to.sin_port = htons(9000);
        _to.sin_addr.s_addr = htonl(0x7f000001);
        lwip_bind(_s, _rx, reinterpret_cast<sockaddr*>(&_to), sizeof _to);
        timeval tv{2, 0};
        lwip_setsockopt(_s, _rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~py_stack() {
        lwip_close(_s, _tx);
        lwip_close(_s, _rx);
    }
    std::string mode() const { return to_string(_s.get_threading_mode()); }
    std::string input() const { return to_string(_s.get_input_mode()); }
    void set_mode(const std::string& m) {
        const auto v = parse_or_throw<threading_mode>(m, parse_threading_mode, "threading mode", joined_names(k_threading_modes));
        py::gil_scoped_release nogil;
        _s.set_threading_mode(v);
    }
    void set_input(const std::string& m) {
        const auto v = parse_or_throw<input_mode>(m, parse_input_mode, "input mode", joined_names(k_input_modes));
        py::gil_scoped_release nogil;
        _s.set_input_mode(v);
    }
    /// Sends `count` datagrams of `size` bytes and receives them; returns counters.
    py::dict exchange(long count, long size) {
        if (count < 0) throw py::value_error("count must be >= 0");
        if (size < 1 || size > 1472) throw py::value_error("size must be 1..1472 bytes (loopback MTU 1500), got " + std::to_string(size));
        struct tally {
            long sent = 0, received = 0, errors = 0;
            double secs = 0;
        };
        // On a worker thread, so that Ctrl-C interrupts a long exchange between datagrams.
        const tally t = run_interruptible<tally>([&](const std::atomic<bool>* cancel) {
            tally out;
            std::vector<char> buf(static_cast<std::size_t>(size), 'x'), in(2048);
            const auto t0 = now_ns();
            for (long i = 0; i < count; ++i) {
                throw_if_cancelled(cancel);
                if (lwip_sendto(_s, _tx, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&_to), sizeof _to) < 0) {
                    ++out.errors;
                    continue;
                }
                ++out.sent;
                if (lwip_recv(_s, _rx, in.data(), in.size(), 0) >= 0) ++out.received;
                else ++out.errors;
            }
            out.secs = static_cast<double>(now_ns() - t0) / 1e9;
            return out;
        });
        const long sent = t.sent, received = t.received, errors = t.errors;
        const double secs = t.secs;
        py::dict d;
        d["sent"] = sent;
        d["received"] = received;
        d["errors"] = errors;
        d["seconds"] = secs;
        d["tcpip_api_messages"] = _s.st().tcpip_msgs_api.get();
        d["api_calls_locked"] = _s.st().api_calls_locked.get();
        d["api_calls_combined_self"] = _s.st().api_calls_combined_self.get();
        d["api_calls_combined_other"] = _s.st().api_calls_combined_other.get();
        d["payload_copies"] = _s.st().payload_copies.get();
        d["dropped"] = _s.st().dropped_total();
        return d;
    }

private:
    stack _s;
    loopback_netif _lo;
    int _tx = -1, _rx = -1;
    sockaddr_in _to{};
};

}  // namespace

PYBIND11_MODULE(_lwbench, m) {
    m.doc() = "lwbench private extension: use the `lwbench` package instead";

    m.def("environment", [] { return to_py(capture_environment()); }, "The environment block of a result file.");
    m.def("load_average", [] { return to_py(load_average()); },
          "The 1, 5 and 15 minute load averages now ([3 numbers] or \"not available\"), as result files hold them.");
    m.def("catalog", [] {
        py::list out;
        for (const auto& s : scenario_catalog()) {
            py::dict d;
            d["name"] = s.name;
            d["description"] = s.description;
            d["parameters"] = s.parameters;
            out.append(d);
        }
        return out;
    });
    m.def("primitives", [] { return primitive_names(); });
    m.def("clock_overhead_ns", [] { return calibrate_clock().overhead_ns; });

    m.def(
        "run_points",
        [](const py::list& points, int repetitions, long ops, long warmup, unsigned seed, bool hw, bool progress,
           bool keep_samples, const std::string& netns, const std::string& tap_device) {
            if (repetitions < 1) throw py::value_error("repetitions must be at least 1");
            if (ops < 1) throw py::value_error("ops must be at least 1");
            if (warmup < 0) throw py::value_error("warmup must be >= 0");
            std::vector<point> pts;
            for (const auto& p : points) pts.push_back(make_point(p.cast<py::dict>()));
            const tap_link tap{netns, tap_device};
            // The same check as `lwbench run --netif tap`, before anything is measured.
            if (std::any_of(pts.begin(), pts.end(), [](const point& p) { return p.netif == netif_kind::tap; }))
                if (auto problem = tap_link_problem(tap)) throw py::value_error("netif='tap': " + *problem);
            auto results = run_interruptible<std::vector<point_result>>([&](const std::atomic<bool>* cancel) {
                run_options o;
                o.repetitions = repetitions;
                o.ops = ops;
                o.warmup = warmup;
                o.seed = seed;
                o.hardware_counters = hw;
                o.keep_samples = keep_samples;
                o.tap = tap;
                o.cancel = cancel;
                if (progress) o.progress = [](const std::string& s) { std::fprintf(stderr, "lwbench: %s\n", s.c_str()); };
                return run_points(pts, o);
            });
            py::list out;
            for (auto& r : results) {
                py::array_t<double> samples(static_cast<py::ssize_t>(r.samples_ns.size()));
                std::copy(r.samples_ns.begin(), r.samples_ns.end(), samples.mutable_data());
                out.append(py::make_tuple(to_py(to_json(r.rec)), samples));
            }
            return out;
        },
        py::arg("points"), py::arg("repetitions") = 5, py::arg("ops") = 20000, py::arg("warmup") = 2000,
        py::arg("seed") = 1, py::arg("hardware_counters") = true, py::arg("progress") = true,
        py::arg("keep_samples") = true, py::arg("netns") = tap_link{}.netns, py::arg("tap_device") = tap_link{}.ifname);

    m.def(
        "reproduce",
        [](int repetitions, long ops, long warmup, bool with_lwip, bool progress, unsigned seed) {
            if (repetitions < 1 || ops < 1 || warmup < 0) throw py::value_error("repetitions and ops must be >= 1, warmup >= 0");
            auto res = run_interruptible<reproduce_result>([&](const std::atomic<bool>* cancel) {
                reproduce_options o;
                o.repetitions = repetitions;
                o.ops = ops;
                o.warmup = warmup;
                o.with_lwip = with_lwip;
                o.seed = seed;
                o.cancel = cancel;
                if (progress) o.progress = [](const std::string& s) { std::fprintf(stderr, "lwbench: %s\n", s.c_str()); };
                return reproduce(o);
            });
            py::list recs;
            for (const auto& r : res.records) recs.append(to_py(to_json(r)));
            py::dict d;
            d["records"] = recs;
            d["notes"] = res.notes;
            d["report"] = res.report;
            return d;
        },
        py::arg("repetitions") = 5, py::arg("ops") = 20000, py::arg("warmup") = 2000, py::arg("with_lwip") = true,
        py::arg("progress") = true, py::arg("seed") = reproduce_options{}.seed);

    m.def(
        "seed_report",
        [](const py::list& records, const std::vector<std::string>& notes) {
            std::vector<record> recs;
            for (const auto& r : records) recs.push_back(record_from_json(from_py(r)));
            return seed_report(recs, notes);
        },
        py::arg("records"), py::arg("notes") = std::vector<std::string>{});

    py::class_<run_context>(m, "RunContext",
                            "The start of a run (begin_run): its time, the load average then, warm-up and seed. "
                            "save_results records them in the file's environment.")
        .def_property_readonly("started_utc", [](const run_context& c) { return c.started_utc; })
        .def_property_readonly("warmup_ops", [](const run_context& c) { return c.warmup_ops; })
        .def_property_readonly("seed", [](const run_context& c) { return c.seed; });

    m.def(
        "begin_run",
        [](long warmup, unsigned seed) {
            auto context = begin_run();
            context.warmup_ops = warmup;
            context.seed = seed;
            return context;
        },
        py::arg("warmup"), py::arg("seed"), "Captures the start of a run; call it before measuring.");

    m.def(
        "save_results",
        [](const std::string& dir, const std::string& label, const std::string& command, const py::list& records,
           const std::vector<std::string>& notes, const std::optional<run_context>& context) {
            std::vector<record> recs;
            for (const auto& r : records) {
                try {
                    recs.push_back(record_from_json(from_py(r)));
                } catch (const nlohmann::json::exception& e) {
                    throw py::value_error(std::string("not an lwbench record: ") + e.what());
                }
            }
            const auto doc = make_document(label, command, recs, notes, context.value_or(run_context{}));
            return save_results(dir, doc, recs).string();
        },
        py::arg("dir"), py::arg("label"), py::arg("command"), py::arg("records"),
        py::arg("notes") = std::vector<std::string>{}, py::arg("context") = py::none());

    py::class_<py_stack>(m, "Stack", "A live stack with a zero-copy loopback and two UDP sockets.")
        .def(py::init<const std::string&, const std::string&, const std::string&, const std::string&>(),
             py::arg("mode") = "core_locking", py::arg("input_mode") = "auto", py::arg("mailbox") = "mutex_cv",
             py::arg("lock") = "std_mutex")
        .def_property_readonly("mode", &py_stack::mode)
        .def_property_readonly("input_mode", &py_stack::input)
        .def("set_mode", &py_stack::set_mode, py::arg("mode"), "Live switch (quiesces, then flips).")
        .def("set_input_mode", &py_stack::set_input, py::arg("input_mode"))
        .def("exchange", &py_stack::exchange, py::arg("count"), py::arg("size") = 1458,
             "Send and receive `count` datagrams through the socket API; returns counters.");
}
