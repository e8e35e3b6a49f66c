// pcap_writer.hpp — writes packets (pbuf chains holding IPv4 packets) to a classic
// pcap file, link type LINKTYPE_IPV4 (228), so tshark/Wireshark read it directly.
#pragma once

#include <cstdio>
#include <string>

#include "lwbench/pbuf.hpp"

LWBENCH_NS_BEGIN

class pcap_writer {
public:
    static constexpr std::uint32_t k_linktype_ipv4 = 228;
    /// Opens (truncates) `path` and writes the global header. ok() tells whether it worked.
    explicit pcap_writer(const std::string& path);
    ~pcap_writer();
    pcap_writer(const pcap_writer&) = delete;
    pcap_writer& operator=(const pcap_writer&) = delete;

    [[nodiscard]] bool ok() const noexcept { return _f != nullptr; }
    /// Appends one record with the chain's bytes and the current time.
    void write(const pbuf* p);
    void flush();
    [[nodiscard]] std::uint64_t records() const noexcept { return _records; }

private:
    std::FILE* _f = nullptr;
    std::uint64_t _records = 0;
};

LWBENCH_NS_END
