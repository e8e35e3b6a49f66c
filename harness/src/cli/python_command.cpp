// python_command.cpp — hand a subcommand over to `python3 -m lwbench` (see the header).
#include "python_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#ifndef LWBENCH_SOURCE_DIR
#define LWBENCH_SOURCE_DIR "."
#endif

namespace lwbench::cli {

const std::vector<std::string>& python_commands() {
    static const std::vector<std::string> names = {"profile", "compare", "report", "crossover"};
    return names;
}

int exec_python_command(const std::string& command, int argc, char** argv) {
    std::vector<std::string> args = {"/usr/bin/python3", "-m", "lwbench", command};
    for (int i = 2; i < argc; ++i) args.emplace_back(argv[i]);
    const std::string package_dir = std::string(LWBENCH_SOURCE_DIR) + "/python";
    const char* old = std::getenv("PYTHONPATH");
    setenv("PYTHONPATH", (old && *old ? package_dir + ":" + old : package_dir).c_str(), 1);
    std::vector<char> self(4096, '\0');
    if (const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1); n > 0)
        setenv("LWBENCH_SELF", std::string(self.data(), static_cast<std::size_t>(n)).c_str(), 1);
    std::vector<char*> exec_args;
    for (auto& a : args) exec_args.push_back(a.data());
    exec_args.push_back(nullptr);
    execv(exec_args[0], exec_args.data());
    std::perror("lwbench: cannot run /usr/bin/python3");
    return 1;
}

}  // namespace lwbench::cli
