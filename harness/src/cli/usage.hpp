// usage.hpp — usage errors of the `lwbench` command.
//
// Every usage error (unknown command, option or value, a value out of range, a bad
// output directory or label) exits with status 2 and says what is wrong, with a
// "did you mean" drawn from the names that would have been accepted. CLI11 does the
// parsing and checking; this file gives it the validators for our enumerated
// values, its failure message, and the one mapping of its error codes to ours.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace lwbench::cli {

/// The exit status of every usage error.
inline constexpr int k_usage_exit = 2;

/// The accepted name that `given` is most likely a typo of (a few edits away, or a
/// prefix of it); nullopt when none is close.
std::optional<std::string> closest_name(std::string_view given, const std::vector<std::string>& names);

/// "unknown mode 'bogus'; did you mean 'core_locking'? (choose from: a, b)".
std::string unknown_name_message(const std::string& what, const std::string& given,
                                 const std::vector<std::string>& names);

/// A CLI11 validator accepting only `names`; with a delimiter it checks each element
/// of a comma-separated list.
CLI::Validator one_of(const std::string& what, std::vector<std::string> names);

/// A CLI11 validator for a whole number in [lo, hi] ("--size must be a whole number").
CLI::Validator whole_number_in(const std::string& what, long lo, long hi);

/// Sets `app`'s failure message: CLI11's text, plus a "did you mean" for an
/// unknown option (among the selected command's options, or `--format X` when the
/// unknown option is `--X` for X in `format_names`, as in `--json`) or command
/// (among the subcommands and `more_commands`, which are dispatched before parsing).
void install_failure_message(CLI::App& app, std::vector<std::string> more_commands,
                             std::vector<std::string> format_names);

/// Parses the command line. Returns nullopt to go on, or the exit status: 0 after
/// --help or --version (printed on stdout), k_usage_exit after a usage error
/// (printed on stderr by the failure message).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

/// Prints "lwbench: <message>" on stderr and exits with k_usage_exit.
[[noreturn]] void usage_error(const std::string& message);

}  // namespace lwbench::cli
