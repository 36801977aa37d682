#pragma once
// A real Mosquitto broker for integration tests: its own process, on 127.0.0.1 and a free port, with a throw-away
// configuration (anonymous clients, no persistence unless asked for). start() returns once the broker accepts TCP
// connections; stop() and restart() (same port) let tests take the broker away and bring it back. The broker dies
// with the test process (PR_SET_PDEATHSIG), also when a test crashes.
//
// Settings::persistent keeps sessions across stop() and start(), as a production broker does: a client with a
// persistent session (clean session false) and a QoS 1 subscription receives, once it is back, what was published
// while it was away, also when the broker was restarted in between (mosquitto.conf(5): the database is written when
// the broker exits on SIGTERM and read again at start). No queue limits, so that a test's burst is never cut.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace schwebe::test {

class Mosquitto {
public:
    /// Tag: pick the port and write the configuration, but leave the broker down until start().
    struct Deferred {};
    /// What differs from the throw-away default.
    struct Settings {
        bool persistent = false;  ///< sessions and their queued messages survive stop() and start()
    };

    Mosquitto() : Mosquitto(Deferred{}) { start(); }
    explicit Mosquitto(Settings settings) : Mosquitto(Deferred{}, settings) { start(); }
    explicit Mosquitto(Deferred deferred) : Mosquitto(deferred, Settings{}) {}
    Mosquitto(Deferred, Settings settings) : port_(free_port()), dir_(make_temp_dir()) {
        std::ofstream conf(dir_ / "mosquitto.conf");
        conf << "listener " << port_ << " 127.0.0.1\n"
             << "allow_anonymous true\n"
             << "log_dest stderr\n"
             // A test broker never drops: by default Mosquitto queues at most 1000 QoS 1 messages for a subscriber
             // that is slower than the publisher (a loaded CI machine), and silently drops the rest.
             << "max_queued_messages 0\n"     // 0: no limit on what waits for a subscriber
             << "max_inflight_messages 0\n";  // 0: no limit on unacknowledged QoS 1 messages per client
        if (settings.persistent) {
            conf << "persistence true\n"
                 << "persistence_location " << (dir_ / "").string() << "\n";
        } else {
            conf << "persistence false\n";
        }
        // Run as root, Mosquitto would switch to its own user, and a change of user clears the parent-death
        // signal (prctl(2)); a test broker on loopback may stay root.
        if (geteuid() == 0) conf << "user root\n";
        if (!conf) throw std::runtime_error("mosquitto: cannot write " + (dir_ / "mosquitto.conf").string());
    }
    ~Mosquitto() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    Mosquitto(const Mosquitto&) = delete;
    Mosquitto& operator=(const Mosquitto&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] bool running() const { return pid_ > 0; }

    /// Starts the broker and waits until it accepts connections; throws (with its log) when it does not within 5 s.
    void start() {
        if (running()) return;
        const std::string binary = broker_binary();
        const std::string conf = (dir_ / "mosquitto.conf").string();
        const std::string log = (dir_ / "mosquitto.log").string();
        std::vector<std::string> args{binary, "-c", conf};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const pid_t parent = getpid();
        const pid_t pid = fork();
        if (pid < 0) throw std::runtime_error(std::string("mosquitto: fork failed: ") + std::strerror(errno));
        if (pid == 0) {
            // The child of a threaded process: only async-signal-safe calls until exec. The broker is to die with
            // the test process even when that one crashes, so that no broker outlives its test.
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) _exit(127);
            const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
            execv(binary.c_str(), argv.data());
            _exit(127);
        }
        pid_ = pid;

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!accepts_connections()) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("mosquitto exited at start:\n" + log_text());
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                stop();
                throw std::runtime_error("mosquitto did not accept connections within 5 s:\n" + log_text());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the polling interval, not a timing guess
        }
    }

    /// SIGTERM, then waits for the process (SIGKILL after 5 s).
    void stop() {
        if (!running()) return;
        kill(pid_, SIGTERM);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        pid_ = -1;
    }

    /// Down and up again on the same port (an outage).
    void restart() {
        stop();
        start();
    }

    /// What the broker wrote, for failure messages.
    [[nodiscard]] std::string log_text() const {
        std::ifstream in(dir_ / "mosquitto.log");
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    static std::string broker_binary() {
        if (const char* env = std::getenv("SCHWEBE_MOSQUITTO")) return env;
        for (const char* candidate : {"/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"}) {
            if (access(candidate, X_OK) == 0) return candidate;
        }
        throw std::runtime_error("mosquitto not found (install it, or set SCHWEBE_MOSQUITTO)");
    }

    /// A port the kernel considers free now: bind to port 0 and read what it chose.
    static std::uint16_t free_port() {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) throw std::runtime_error("mosquitto: socket() failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        socklen_t len = sizeof(addr);
        if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
            getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            close(fd);
            throw std::runtime_error("mosquitto: cannot find a free port");
        }
        close(fd);
        return ntohs(addr.sin_port);
    }

    static std::filesystem::path make_temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "schwebe-mosquitto-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mosquitto: mkdtemp failed");
        return pattern;
    }

    [[nodiscard]] bool accepts_connections() const {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return false;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port_);
        const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        close(fd);
        return ok;
    }

    std::uint16_t port_;
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

}  // namespace schwebe::test
