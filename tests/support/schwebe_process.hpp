#pragma once
// The schwebe binary in a process of its own, as an operator runs it, for tests of `schwebe serve`.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <map>
#include <string>
#include <vector>

#include "sim/simulated_gateway.hpp"

namespace schwebe::test {

/// A UDP port on 127.0.0.1 that was free a moment ago.
inline std::uint16_t free_udp_port() {
    boost::asio::io_context io;
    boost::asio::ip::udp::socket s(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return s.local_endpoint().port();
}

/// The schwebe binary (SCHWEBE_BINARY) with the given arguments and SCHWEBE_* environment; killed at the end.
class SchwebeProcess {
public:
    SchwebeProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
        std::vector<std::string> argv_s{SCHWEBE_BINARY};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_s;
        for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
        env_s.push_back("PATH=/usr/bin:/bin");
        std::vector<char*> envp;
        for (auto& e : env_s) envp.push_back(e.data());
        envp.push_back(nullptr);
        REQUIRE(posix_spawn(&pid_, SCHWEBE_BINARY, nullptr, nullptr, argv.data(), envp.data()) == 0);
    }
    SchwebeProcess(const SchwebeProcess&) = delete;
    SchwebeProcess& operator=(const SchwebeProcess&) = delete;
    ~SchwebeProcess() { kill9(); }

    /// SIGTERM, then the exit status.
    int terminate() {
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    /// SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
    void kill9() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
};

/// PULL_DATA every 100 ms until the server (perhaps still starting) acknowledges one, for at most 10 s.
inline bool wait_for_server(boost::asio::io_context& io, sim::SimulatedGateway& gw) {
    const auto acks = gw.pull_acks.size();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (gw.pull_acks.size() == acks && std::chrono::steady_clock::now() < deadline) {
        gw.pull();
        sim::run_until(io, [&] { return gw.pull_acks.size() > acks; }, std::chrono::milliseconds{100});
    }
    return gw.pull_acks.size() > acks;
}

}  // namespace schwebe::test
