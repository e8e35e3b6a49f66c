# Every dependency is a Debian package (see README "Libraries"); scripts/install-deps.sh installs them.
find_package(Threads REQUIRED)
find_package(TBB REQUIRED)                 # libtbb-dev: concurrent_bounded_queue, spin_mutex, queuing_mutex
find_package(nlohmann_json 3.10 REQUIRED)  # nlohmann-json3-dev: result files
find_package(CLI11 REQUIRED)               # libcli11-dev: the lwbench command line
find_package(fmt REQUIRED)                 # libfmt-dev: tables and messages
if(NOT LWBENCH_FUZZ)
  find_package(GTest REQUIRED)             # libgtest-dev, libgmock-dev
  find_package(benchmark REQUIRED)         # libbenchmark-dev
endif()
