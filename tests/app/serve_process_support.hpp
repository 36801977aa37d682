#pragma once
// `schwebe serve` and `schwebe replay` as processes of a test's own (serve_capture_test.cpp,
// serve_scenario_test.cpp): the server's output in a file, the replay's summary.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/schwebe_process.hpp"
#include "support/sqlite_files.hpp"

namespace schwebe::test {

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

/// `schwebe serve` as a process of the test's own. Unlike SchwebeProcess (support/schwebe_process.hpp), it keeps
/// the pid for signals other than the end (SIGHUP), and the server's output in a file for failure messages.
class ServeProcess {
public:
    ServeProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                 std::filesystem::path output)
        : output_(std::move(output)) {
        const int fd = ::open(output_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0);
        pid_ = schwebe::test::detail::spawn_schwebe(args, env, fd);
        ::close(fd);
        REQUIRE(pid_ > 0);
    }
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;
    ~ServeProcess() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }

    void signal(int sig) const { REQUIRE(::kill(pid_, sig) == 0); }

    /// SIGTERM, then the exit status.
    int terminate() {
        signal(SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    /// What the server wrote so far (stdout and stderr).
    [[nodiscard]] std::string output() const { return read_text(output_); }

private:
    std::filesystem::path output_;
    pid_t pid_ = -1;
};

/// What `schwebe replay` printed, each stream on its own, how it ended and how long it took.
struct ReplayRun {
    int exit_code = -1;
    std::string out;
    std::string err;
    std::chrono::steady_clock::duration wall{};

    /// The one-line JSON summary on stdout.
    [[nodiscard]] nlohmann::json summary() const {
        INFO("stdout: " << out << "\nstderr: " << err);
        const auto lines = lines_of(out);
        REQUIRE(lines.size() == 1);
        const nlohmann::json j = nlohmann::json::parse(lines[0], nullptr, false);
        REQUIRE(j.is_object());
        return j;
    }
};

/// The real binary, `schwebe replay ARGS…`, to its end; stdout and stderr into files of `dir`. posix_spawn: no
/// code of ours runs in the child of this threaded process.
inline ReplayRun run_replay(const TempDir& dir, const std::vector<std::string>& args) {
    const auto out_path = dir.path() / "replay.out";
    const auto err_path = dir.path() / "replay.err";
    std::vector<std::string> argv_s{SCHWEBE_BINARY, "replay"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string path_env = "PATH=/usr/bin:/bin";
    char* envp[] = {path_env.data(), nullptr};

    posix_spawn_file_actions_t actions;
    REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ReplayRun run;
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, SCHWEBE_BINARY, &actions, nullptr, argv.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    run.wall = std::chrono::steady_clock::now() - start;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = read_text(out_path);
    run.err = read_text(err_path);
    return run;
}

}  // namespace schwebe::test
