// pcap_writer.cpp — classic pcap format (global header + one record per packet).
#include "lwbench/pcap_writer.hpp"

#include <chrono>
#include <cstring>

LWBENCH_NS_BEGIN

namespace {
void put32(unsigned char* p, std::uint32_t v) { std::memcpy(p, &v, 4); }  // native order; magic tells readers
void put16(unsigned char* p, std::uint16_t v) { std::memcpy(p, &v, 2); }
}  // namespace

pcap_writer::pcap_writer(const std::string& path) : _f(std::fopen(path.c_str(), "wb")) {
    if (!_f) return;
    unsigned char h[24];
    put32(h, 0xa1b2c3d4u);  // microsecond timestamps
    put16(h + 4, 2);
    put16(h + 6, 4);
    put32(h + 8, 0);    // thiszone
    put32(h + 12, 0);   // sigfigs
    put32(h + 16, 65535);  // snaplen
    put32(h + 20, k_linktype_ipv4);
    if (std::fwrite(h, 1, sizeof h, _f) != sizeof h) {
        std::fclose(_f);
        _f = nullptr;
    }
}

pcap_writer::~pcap_writer() {
    if (_f) std::fclose(_f);
}

void pcap_writer::write(const pbuf* p) {
    if (!_f || !p) return;
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
    unsigned char h[16];
    put32(h, static_cast<std::uint32_t>(us / 1000000));
    put32(h + 4, static_cast<std::uint32_t>(us % 1000000));
    put32(h + 8, p->tot_len);
    put32(h + 12, p->tot_len);
    std::fwrite(h, 1, sizeof h, _f);
    for (const pbuf* q = p; q; q = q->next) std::fwrite(q->payload, 1, q->len, _f);
    ++_records;
}

void pcap_writer::flush() {
    if (_f) std::fflush(_f);
}

LWBENCH_NS_END
