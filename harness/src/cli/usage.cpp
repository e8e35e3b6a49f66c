// usage.cpp — did-you-mean, validators and the failure message (see usage.hpp).
#include "usage.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace lwbench::cli {

namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

/// Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

/// "--pinnning=x" → "--pinnning": the option name a user typed.
std::string option_name_of(const std::string& arg) { return arg.substr(0, arg.find('=')); }

/// The long option names of `app` ("--pinning", …), including --help.
std::vector<std::string> long_option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const auto* option : app.get_options())
        for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    return names;
}

std::string did_you_mean(const std::string& given, const std::vector<std::string>& names) {
    const auto near = closest_name(given, names);
    return near ? "; did you mean '" + *near + "'?" : "";
}

}  // namespace

std::optional<std::string> closest_name(std::string_view given, const std::vector<std::string>& names) {
    std::optional<std::string> best;
    std::size_t best_distance = 0;
    for (const auto& name : names) {
        const std::size_t distance = edit_distance(given, name);
        if (!best || distance < best_distance) {
            best = name;
            best_distance = distance;
        }
    }
    if (!best) return std::nullopt;
    const bool typo = best_distance <= std::max<std::size_t>(1, given.size() / 3);
    const auto is_prefix = [&](const std::string& name) { return given.size() >= 3 && name.rfind(given, 0) == 0; };
    if (typo) return best;
    const auto prefixed = std::find_if(names.begin(), names.end(), is_prefix);
    return prefixed == names.end() ? std::nullopt : std::optional<std::string>(*prefixed);
}

std::string unknown_name_message(const std::string& what, const std::string& given,
                                 const std::vector<std::string>& names) {
    return "unknown " + what + " '" + given + "'" + did_you_mean(given, names) + " (choose from: " + joined(names) +
           ")";
}

CLI::Validator one_of(const std::string& what, std::vector<std::string> names) {
    const std::string description = "{" + joined(names) + "}";
    return CLI::Validator(
        [what, names = std::move(names)](std::string& value) -> std::string {
            if (std::find(names.begin(), names.end(), value) != names.end()) return {};
            return unknown_name_message(what, value, names);
        },
        description);
}

CLI::Validator whole_number_in(const std::string& what, long lo, long hi) {
    return CLI::Validator(
        [what, lo, hi](std::string& value) -> std::string {
            long number = 0;
            std::size_t used = 0;
            try {
                number = std::stol(value, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != value.size()) return what + " must be a whole number, got '" + value + "'";
            if (number < lo || number > hi)
                return what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                       value;
            return {};
        },
        "INT in [" + std::to_string(lo) + " - " + std::to_string(hi) + "]");
}

void install_failure_message(CLI::App& app, std::vector<std::string> more_commands,
                             std::vector<std::string> format_names) {
    app.failure_message([more_commands, format_names](const CLI::App* top, const CLI::Error& error) {
        const auto selected = top->get_subcommands();
        const CLI::App* scope = selected.empty() ? top : selected.front();
        std::vector<std::string> commands = more_commands;
        for (const auto* sub : top->get_subcommands({})) commands.push_back(sub->get_name());
        std::sort(commands.begin(), commands.end());
        commands.erase(std::unique(commands.begin(), commands.end()), commands.end());
        const std::string where = selected.empty() ? "lwbench" : "lwbench " + scope->get_name();

        // Left-over words explain an "unexpected argument" or a missing command; any
        // other error (a bad value) is reported as CLI11 states it.
        const bool about_words = dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr ||
                                 (selected.empty() && dynamic_cast<const CLI::RequiredError*>(&error) != nullptr);
        std::vector<std::string> unexpected;
        if (about_words) {
            unexpected = scope->remaining();
            if (scope != top)
                for (const auto& arg : top->remaining()) unexpected.push_back(arg);
        }
        std::string message = error.what();
        // CLI11 prefixes a validator's message with the option's name; ours may start
        // with it already ("--size: --size must be …").
        if (const auto colon = message.find(": "); colon != std::string::npos &&
                                                   message.compare(colon + 2, colon + 1, message.substr(0, colon) + " ") == 0)
            message.erase(0, colon + 2);
        // The first unexpected word explains best what went wrong.
        const auto first_unexpected = [&]() -> std::optional<std::string> {
            if (unexpected.empty()) return std::nullopt;
            const auto option = std::find_if(unexpected.begin(), unexpected.end(),
                                             [](const std::string& a) { return a.rfind('-', 0) == 0; });
            return option != unexpected.end() ? *option : unexpected.front();
        }();
        if (first_unexpected && first_unexpected->rfind('-', 0) == 0) {
            const auto name = option_name_of(*first_unexpected);
            const auto options = long_option_names(*scope);
            const bool has_format = std::find(options.begin(), options.end(), "--format") != options.end();
            const std::string bare = name.rfind("--", 0) == 0 ? name.substr(2) : std::string();
            const bool is_format = std::find(format_names.begin(), format_names.end(), bare) != format_names.end();
            message = "unknown option '" + name + "' for '" + where + "'" +
                      (has_format && is_format ? "; did you mean '--format " + bare + "'?" : did_you_mean(name, options));
        } else if (first_unexpected && selected.empty()) {
            message = unknown_name_message("command", *first_unexpected, commands);
        } else if (first_unexpected) {
            message = "unexpected argument '" + *first_unexpected + "' for '" + where + "' (" + error.what() + ")";
        } else if (selected.empty() && dynamic_cast<const CLI::RequiredError*>(&error)) {
            message = std::string(error.what()) + " (choose from: " + joined(commands) + ")";
        }
        return "lwbench: " + message + "\nRun '" + where + " --help' for the options and their defaults.\n";
    });
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == static_cast<int>(CLI::ExitCodes::Success) ? 0 : k_usage_exit;
    }
    return std::nullopt;
}

void usage_error(const std::string& message) {
    std::cerr << "lwbench: " << message << "\n";
    std::exit(k_usage_exit);
}

}  // namespace lwbench::cli
