// python_command.hpp — `lwbench profile|compare|report|crossover`, which live in the Python
// package (python/lwbench): the C++ command hands the whole command line over.
#pragma once

#include <string>
#include <vector>

namespace lwbench::cli {

/// The subcommands implemented by `python3 -m lwbench`.
const std::vector<std::string>& python_commands();

/// Replaces this process with `/usr/bin/python3 -m lwbench <command> <argv[2:]>`, the
/// arguments passed untouched and the repository's python/ prepended to PYTHONPATH,
/// so the exit status is Python's own; LWBENCH_SELF names this binary, so a command
/// that measures (crossover) runs the very binary it was started from. Returns only if python3 cannot be started
/// (after printing why), with status 1.
int exec_python_command(const std::string& command, int argc, char** argv);

}  // namespace lwbench::cli
