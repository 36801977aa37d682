#pragma once
// The schwebe binary in a process of its own, as an operator runs it, for tests of `schwebe serve` and of the
// commands that provision it. The process dies with the test process (PR_SET_PDEATHSIG), also when a test crashes.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
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

namespace detail {

/// Forks and execs SCHWEBE_BINARY with `args` and exactly the `env` given (plus PATH); stdout and stderr go to
/// `output_fd` when it is not -1. The child gets SIGKILL when the test process goes.
inline pid_t spawn_schwebe(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                           int output_fd = -1) {
    // Everything the child needs is built before fork: a child of a threaded process may only make
    // async-signal-safe calls until exec.
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

    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);  // the test process went before prctl took effect
        if (output_fd >= 0) {
            dup2(output_fd, STDOUT_FILENO);
            dup2(output_fd, STDERR_FILENO);
            close(output_fd);
        }
        execve(SCHWEBE_BINARY, argv.data(), envp.data());
        _exit(127);
    }
    return pid;
}

}  // namespace detail

/// The schwebe binary (SCHWEBE_BINARY) with the given arguments and SCHWEBE_* environment; killed at the end.
class SchwebeProcess {
public:
    SchwebeProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
        pid_ = detail::spawn_schwebe(args, env);
        REQUIRE(pid_ > 0);
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

/// What a command printed (stdout and stderr, interleaved) and how it ended.
struct CommandResult {
    int exit_code = -1;  ///< 128 + the signal when a signal ended it
    std::string output;
};

/// Runs a schwebe command (`profile add …`, `device add …`) to its end.
inline CommandResult run_schwebe(const std::vector<std::string>& args,
                                 const std::map<std::string, std::string>& env = {}) {
    int pipe_fds[2];
    REQUIRE(pipe2(pipe_fds, O_CLOEXEC) == 0);
    // The child's copy of the write end is dup2'ed onto stdout and stderr (dup2 clears O_CLOEXEC on the copies).
    const pid_t pid = detail::spawn_schwebe(args, env, pipe_fds[1]);
    close(pipe_fds[1]);
    CommandResult result;
    char buffer[4096];
    while (true) {
        const ssize_t n = read(pipe_fds[0], buffer, sizeof(buffer));
        if (n > 0) {
            result.output.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    close(pipe_fds[0]);
    REQUIRE(pid > 0);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

/// PULL_DATA every 100 ms until the server (perhaps still starting) acknowledges one, for at most 10 s.
inline bool wait_for_server(boost::asio::io_context& io, sim::SimulatedGateway& gw) {
    const auto acks = gw.pull_acks.size();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (gw.pull_acks.size() == acks && std::chrono::steady_clock::now() < deadline) {
        gw.pull();
        sim::run_until(
            io, [&] { return gw.pull_acks.size() > acks; }, std::chrono::milliseconds{100});
    }
    return gw.pull_acks.size() > acks;
}

}  // namespace schwebe::test
