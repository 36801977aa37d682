#include "app/replay_command.hpp"

#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "sim/replay.hpp"

namespace schwebe::app {

namespace {

int fail(const std::string& reason) {
    std::cerr << "schwebe: " << reason << '\n';
    return 2;
}

}  // namespace

std::optional<boost::asio::ip::udp::endpoint> parse_udp_endpoint(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    if (ec) return std::nullopt;
    const std::string port_text = text.substr(colon + 1);
    if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    const auto port = std::stoul(port_text);
    if (port == 0 || port > 65535) return std::nullopt;
    return boost::asio::ip::udp::endpoint(address, static_cast<unsigned short>(port));
}

int replay_command(const common::Config& config, const ReplayArgs& args) {
    const std::string server_text = args.server.value_or(config.get("bridge.udp_bind"));
    const auto server = parse_udp_endpoint(server_text);
    if (!server) return fail("--server: expected HOST:PORT, got '" + server_text + "'");
    if (!(args.speed >= 0)) return fail("--speed: expected 0 (as fast as possible) or more");
    if (args.linger_ms < 0 || args.linger_ms > 600'000) return fail("--linger-ms: expected 0..600000");
    sim::CaptureFile file;
    try {
        file = sim::read_capture_file(args.file);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    for (const auto& problem : file.problems) std::cerr << "schwebe: " << args.file << ": " << problem << " (skipped)\n";
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    const auto total = file.records.size();
    const auto progress = [&](std::uint64_t sent) {
        if (!tty || (sent % 500 != 0 && sent != total)) return;
        const int width = 40;
        const auto filled = total ? static_cast<int>(width * sent / total) : width;
        std::fprintf(stderr, "\r[%s%s] %llu/%zu datagrams", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), '.').c_str(),
                     static_cast<unsigned long long>(sent), total);
    };
    const auto summary = sim::replay(file.records,
                                     {.server = *server, .speed = args.speed,
                                      .linger = std::chrono::milliseconds{args.linger_ms}},
                                     progress);
    if (tty) std::fputc('\n', stderr);
    const nlohmann::ordered_json out{{"records", total},
                                     {"malformed_lines", file.problems.size()},
                                     {"datagrams_sent", summary.datagrams_sent},
                                     {"tx_acks_skipped", summary.tx_acks_skipped},
                                     {"senders", summary.senders},
                                     {"push_acks", summary.push_acks},
                                     {"pull_acks", summary.pull_acks},
                                     {"pull_resps", summary.pull_resps},
                                     {"tx_acks_sent", summary.tx_acks_sent},
                                     {"send_errors", summary.send_errors}};
    std::cout << out.dump() << '\n';
    if (summary.send_errors > 0) {
        std::cerr << "schwebe: " << summary.send_errors << " datagrams could not be sent to " << server_text << ": "
                  << summary.first_send_error << '\n';
        return 1;
    }
    return 0;
}

}  // namespace schwebe::app
