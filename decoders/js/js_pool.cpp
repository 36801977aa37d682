#include "decoders/js/js_pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <utility>

#include "decoders/js/worker_script.hpp"

namespace schwebe::decoders::js {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t load_index = std::numeric_limits<std::size_t>::max();  ///< a load nobody waits for
constexpr std::size_t load_answer = load_index - 1;  ///< the load() under way
/// Calls sent to one worker ahead of its answers: it goes from one to the next without waiting for the server.
constexpr std::size_t calls_in_flight = 8;
/// Arrays and objects in a codec's answer nest at most this deep.
constexpr int max_nesting = 64;

/// `name` as given when it has a slash, else the first executable of that name in PATH; empty when none.
std::string find_executable(const std::string& name) {
    if (name.empty()) return {};
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const auto end = std::min(dirs.find(':', start), dirs.size());
        std::string candidate = dirs.substr(start, end - start);
        candidate = (candidate.empty() ? "." : candidate) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return {};
}

/// JSON text of a request. Codec files and paths need not be UTF-8 (vendor codecs with Latin-1 comments exist):
/// invalid bytes become U+FFFD, the same way each time, instead of an exception.
std::string dump(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// Whether JSON text nests arrays and objects deeper than `limit` (parsing it would recurse that deep).
bool nested_deeper_than(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

/// The id of an answer whose JSON does not parse, read off its start ({"id":N,…), to fail that call alone.
std::optional<std::uint64_t> leading_id(std::string_view text) {
    constexpr std::string_view prefix = "{\"id\":";
    if (!text.starts_with(prefix)) return std::nullopt;
    std::uint64_t id = 0;
    std::size_t i = prefix.size();
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && i < prefix.size() + 18; ++i) {
        id = id * 10 + static_cast<std::uint64_t>(text[i] - '0');
    }
    return id;
}

std::string describe_status(int status, unsigned memory_mb) {
    if (WIFEXITED(status)) return "the worker exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        std::string reason = "the worker was ended by signal " + std::to_string(sig);
        if (sig == SIGABRT || sig == SIGTRAP || sig == SIGSEGV) {
            reason += " (the codec may have exceeded the memory limit of " + std::to_string(memory_mb) + " MB)";
        }
        return reason;
    }
    return "the worker ended";
}

}  // namespace

struct Pool::Worker {
    pid_t pid = -1;
    int fd = -1;
    bool ready = false;  ///< it said it runs
    std::string out;     ///< bytes not yet written
    std::string in;      ///< bytes not yet a whole frame
    std::deque<std::pair<std::uint64_t, std::size_t>> pending;  ///< ids sent, not answered; reply index
    std::map<std::uint64_t, std::string> load_names;             ///< the codec each pending load compiles
    Clock::time_point deadline{};
    bool call_pending() const {
        return std::any_of(pending.begin(), pending.end(), [](const auto& p) { return p.second < load_answer; });
    }
    bool load_pending() const {
        return std::any_of(pending.begin(), pending.end(), [](const auto& p) { return p.second >= load_answer; });
    }
};

Pool::Pool(PoolOptions options) : options_(std::move(options)) {
    if (options_.workers == 0) options_.workers = 1;
    node_path_ = find_executable(options_.node);
    argv_ = {options_.node,
             "--max-old-space-size=" + std::to_string(std::max(16u, options_.memory_mb)),
             "--disallow-code-generation-from-strings",  // node's own Function; the codecs' contexts allow eval
             "-e",
             worker_script,
             std::to_string(std::max<std::int64_t>(1, options_.timeout.count())),
             std::to_string(options_.max_output_bytes)};
    for (unsigned i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<Worker>());
}

Pool::~Pool() {
    for (auto& w : workers_) {
        if (w->pid < 0) continue;
        ::close(w->fd);  // the worker exits at the end of its input
        ::kill(w->pid, SIGKILL);
        int status = 0;
        ::waitpid(w->pid, &status, 0);
    }
}

std::string Pool::frame_of(std::uint64_t id, const std::string& json) const {
    // {"id":N, + the request's members
    std::string body = "{\"id\":" + std::to_string(id) + (json.size() > 2 ? "," : "") + json.substr(1);
    std::string frame(4, '\0');
    const auto n = static_cast<std::uint32_t>(body.size());
    frame[0] = static_cast<char>(n >> 24);
    frame[1] = static_cast<char>(n >> 16);
    frame[2] = static_cast<char>(n >> 8);
    frame[3] = static_cast<char>(n);
    return frame + body;
}

void Pool::spawn(Worker& w) {
    if (node_path_.empty()) {
        last_start_failure_ = "node not found (codecs.js_node = " + options_.node +
                              "): JavaScript codecs need Node.js 18 or later (Debian package nodejs)";
        no_start_before_ = Clock::now() + std::chrono::seconds{10};
        return;
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        last_start_failure_ = std::string("socketpair: ") + std::strerror(errno);
        no_start_before_ = Clock::now() + std::chrono::seconds{1};
        return;
    }
    std::vector<char*> argv;
    for (auto& a : argv_) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};  // nothing of the server's environment (NODE_OPTIONS, secrets) reaches a codec
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(sv[0]);
        ::close(sv[1]);
        last_start_failure_ = std::string("fork: ") + std::strerror(errno);
        no_start_before_ = Clock::now() + std::chrono::seconds{1};
        return;
    }
    if (pid == 0) {
        // The child of a threaded process: async-signal-safe calls only until execve.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);  // a worker killed by a codec leaves no core file
        ::dup2(sv[1], 0);
        ::dup2(sv[1], 1);
        const int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) ::dup2(devnull, 2);
        ::close_range(3, ~0U, 0);
        ::execve(node_path_.c_str(), argv.data(), envp);
        ::_exit(127);
    }
    ::close(sv[1]);
    ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    w = Worker{};
    w.pid = pid;
    w.fd = sv[0];
    w.deadline = Clock::now() + options_.start_timeout;
    ++stats_.workers_started;
    for (const auto& [name, source] : sources_) {
        const auto id = next_id_++;
        w.load_names[id] = name;
        send(w, id, dump(nlohmann::json{{"op", "load"}, {"codec", name}, {"source", source}}), load_index);
    }
}

void Pool::retire(Worker& w, const std::string& reason) {
    if (w.pid < 0) return;
    ::close(w.fd);
    ::kill(w.pid, SIGKILL);
    int status = 0;
    std::string why = reason;
    if (::waitpid(w.pid, &status, 0) == w.pid && why.empty()) why = describe_status(status, options_.memory_mb);
    // A worker that dies while it compiles a codec (at its start, or a load under way): that codec is the cause. It
    // is dropped, so that the workers started next do not die of it too, and every call to it answers why.
    bool cause_known = false;
    if (!w.pending.empty() && w.pending.front().second >= load_answer) {
        const auto& [id, index] = w.pending.front();
        if (const auto name = w.load_names.find(id); name != w.load_names.end()) {
            cause_known = true;
            if (sources_.erase(name->second) > 0) dropped_[name->second] = "compiling it ended the worker: " + why;
            if (index == load_answer && load_error_.empty()) load_error_ = dropped_[name->second];
        }
    }
    // Workers that die at their start for no known cause (node missing, a bad flag, no memory) are started again
    // after a pause, not in a loop.
    if ((!w.ready || w.load_pending()) && !cause_known) {
        last_start_failure_ = "a JavaScript worker did not start: " + why;
        if (++failed_starts_ >= 3) {
            failed_starts_ = 0;
            no_start_before_ = Clock::now() + std::chrono::seconds{10};
        }
    }
    if (w.call_pending()) ++stats_.workers_replaced;
    // The worker answers in order: the first call it had not answered is the one it was running, the one that
    // overran or killed it. The calls queued behind it go to the other workers (or this one's successor).
    bool culprit_found = false;
    std::vector<std::size_t> requeue;
    for (const auto& [id, index] : w.pending) {
        if (index >= load_answer) continue;
        if (culprit_found) {
            requeue.push_back(index);
            continue;
        }
        culprit_found = true;
        if (answering_ && index < answering_->size() && !(*answering_)[index].ok() &&
            (*answering_)[index].error.empty()) {
            (*answering_)[index].error = why + " (worker replaced)";
            ++answered_;
        }
    }
    for (auto it = requeue.rbegin(); it != requeue.rend(); ++it) queue_.push_front(*it);
    w = Worker{};
}

std::chrono::milliseconds Pool::budget_of(std::size_t index) const {
    // A call's time limit is kept here: the worker runs calls without vm's timeout (codec_worker.js says why).
    return index >= load_answer ? options_.start_timeout : options_.timeout;
}

void Pool::send(Worker& w, std::uint64_t id, const std::string& json, std::size_t index) {
    w.out += frame_of(id, json);
    w.pending.emplace_back(id, index);
    // The worker answers one request after the other: the deadline is the one of the request it works on, counted
    // from when it got to it (on_message moves it on). A worker still starting has the start timeout at least.
    if (!w.ready) {
        w.deadline = std::max(w.deadline, Clock::now() + budget_of(index));
    } else if (w.pending.size() == 1) {
        w.deadline = Clock::now() + budget_of(index);
    }
    flush(w);
}

bool Pool::flush(Worker& w) {
    while (!w.out.empty()) {
        const auto n = ::send(w.fd, w.out.data(), w.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            // The worker is gone: what it answered before is still to be read, and its end with it (read_from).
            w.out.clear();
            return true;
        }
        w.out.erase(0, static_cast<std::size_t>(n));
    }
    return true;
}

void Pool::read_from(Worker& w, std::vector<Reply>& replies) {
    char buffer[65536];
    for (;;) {
        const auto n = ::recv(w.fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 0) return retire(w, {});
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return retire(w, {});
        }
        w.in.append(buffer, static_cast<std::size_t>(n));
        const std::size_t max_frame = options_.max_output_bytes * 4 + 65536;
        while (w.in.size() >= 4) {
            const auto* p = reinterpret_cast<const unsigned char*>(w.in.data());
            const std::size_t length = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                                       (std::size_t{p[2]} << 8) | std::size_t{p[3]};
            if (length > max_frame) return retire(w, "the worker sent more than the output limit");
            if (w.in.size() < 4 + length) break;
            const std::string_view body(w.in.data() + 4, length);
            // Deep nesting would recurse in the parser (and in every copy of the value) until the stack ends;
            // text that is not JSON (a lone UTF-16 surrogate in a codec's string, a codec that replaced
            // JSON.stringify) fails that call alone: the frame itself was whole.
            const bool too_deep = nested_deeper_than(body, max_nesting);
            auto message = too_deep ? nlohmann::json(nlohmann::json::value_t::discarded)
                                    : nlohmann::json::parse(body, nullptr, false);
            if (message.is_discarded() || !message.is_object()) {
                const auto id = leading_id(body);
                w.in.erase(0, 4 + length);
                if (!id || id == 0) return retire(w, "the worker sent garbage");
                message = nlohmann::json{{"id", *id},
                                         {"error", too_deep ? "the result nests deeper than " +
                                                                  std::to_string(max_nesting) + " levels"
                                                            : std::string("the result is not valid JSON")}};
            } else {
                w.in.erase(0, 4 + length);
            }
            on_message(w, message, replies);
            if (w.pid < 0) return;
        }
    }
}

void Pool::on_message(Worker& w, const nlohmann::json& message, std::vector<Reply>& replies) {
    const auto id_it = message.find("id");
    if (id_it == message.end() || !id_it->is_number_unsigned()) return retire(w, "the worker sent garbage");
    const auto id = id_it->get<std::uint64_t>();
    if (id == 0) {
        w.ready = true;
        failed_starts_ = 0;
        if (const auto v = message.find("node"); v != message.end() && v->is_string()) node_version_ = *v;
        return;
    }
    if (w.pending.empty() || w.pending.front().first != id) return retire(w, "the worker answered out of order");
    const auto index = w.pending.front().second;
    w.pending.pop_front();
    w.load_names.erase(id);
    if (!w.pending.empty()) w.deadline = Clock::now() + budget_of(w.pending.front().second);
    if (index == load_answer) {
        // Each worker answers the load: a compile error is the same in each; the first counts.
        if (const auto e = message.find("error"); e != message.end() && load_error_.empty()) {
            load_error_ = e->is_string() ? e->get<std::string>() : "the worker sent garbage";
            load_kept_ = message.value("kept", false);
        }
        return;
    }
    if (index == load_index || index >= replies.size()) return;
    Reply& reply = replies[index];
    if (reply.ok() || !reply.error.empty()) return;
    if (const auto r = message.find("result"); r != message.end()) {
        reply.result = *r;
    } else if (const auto ok = message.find("ok"); ok != message.end()) {
        reply.result = nlohmann::json::object();
    } else if (const auto e = message.find("error"); e != message.end() && e->is_string()) {
        reply.error = e->get<std::string>();
    } else {
        reply.error = "the worker sent garbage";
    }
    ++answered_;
}

bool Pool::any_starting() const {
    return std::any_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->pid >= 0; });
}

bool Pool::pump(std::vector<Reply>& replies, Clock::time_point until) {
    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    auto wake = until;
    for (auto& w : workers_) {
        if (w->pid < 0) continue;
        fds.push_back({w->fd, static_cast<short>(POLLIN | (w->out.empty() ? 0 : POLLOUT)), 0});
        owners.push_back(w.get());
        if (!w->ready || !w->pending.empty()) wake = std::min(wake, w->deadline);
    }
    if (fds.empty()) return false;
    const auto now = Clock::now();
    const auto wait_ms = wake <= now ? 0 : std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<std::int64_t>(wait_ms, 60'000)));
    if (n < 0 && errno != EINTR) return false;
    for (std::size_t i = 0; i < fds.size(); ++i) {
        Worker& w = *owners[i];
        if (w.pid < 0) continue;
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_from(w, replies);
        if (w.pid >= 0 && (fds[i].revents & POLLOUT)) flush(w);
    }
    const auto after = Clock::now();
    for (auto& w : workers_) {
        if (w->pid < 0 || (w->ready && w->pending.empty()) || after < w->deadline) continue;
        // Its answer may have come in while the others were read: a last look before it is killed.
        read_from(*w, replies);
        if (w->pid < 0 || (w->ready && w->pending.empty()) || Clock::now() < w->deadline) continue;
        if (w->call_pending()) {
            ++stats_.timeouts;
            retire(*w, "time limit of " + std::to_string(options_.timeout.count()) + " ms exceeded");
        } else {
            retire(*w, "no answer within the start timeout of " + std::to_string(options_.start_timeout.count()) +
                           " ms");
        }
    }
    return true;
}

std::optional<std::string> Pool::load(const std::string& name, const std::string& source) {
    // Workers not running yet start first (with the codecs loaded before), then all of them get this one and
    // answer it, so that a compile error comes back here.
    for (auto& w : workers_) {
        if (w->pid < 0 && Clock::now() >= no_start_before_) spawn(*w);
    }
    const auto previous = sources_.find(name);
    const std::optional<std::string> previous_source =
        previous == sources_.end() ? std::nullopt : std::optional<std::string>(previous->second);
    sources_[name] = source;
    dropped_.erase(name);
    load_kept_ = false;
    if (!any_starting()) {
        if (previous_source) {
            sources_[name] = *previous_source;
        } else {
            sources_.erase(name);
        }
        return last_start_failure_.empty() ? "no JavaScript worker runs" : last_start_failure_;
    }
    std::vector<Reply> none;
    answering_ = &none;
    load_error_.clear();
    load_kept_ = false;
    const auto id = next_id_++;
    const auto request = dump(nlohmann::json{{"op", "load"}, {"codec", name}, {"source", source}});
    for (auto& w : workers_) {
        if (w->pid < 0) continue;
        w->load_names[id] = name;
        send(*w, id, request, load_answer);
    }
    // Wait until every worker has answered (or was replaced).
    const auto until = Clock::now() + options_.start_timeout + std::chrono::seconds{1};
    while (Clock::now() < until) {
        const bool busy = std::any_of(workers_.begin(), workers_.end(),
                                      [](const auto& w) { return w->pid >= 0 && (!w->ready || !w->pending.empty()); });
        if (!busy) break;
        if (!pump(none, until)) break;
    }
    answering_ = nullptr;
    if (!load_error_.empty()) {
        // The workers keep a version that compiled before; so must the workers started later.
        if (load_kept_ && previous_source && sources_.contains(name)) {
            sources_[name] = *previous_source;
            return load_error_ + " (the version loaded before stays in use)";
        }
        return load_error_;
    }
    if (!any_starting()) return last_start_failure_.empty() ? "no JavaScript worker runs" : last_start_failure_;
    return std::nullopt;
}

void Pool::unload(const std::string& name) {
    if (sources_.erase(name) == 0) return;
    for (auto& w : workers_) {
        if (w->pid >= 0) send(*w, next_id_++, dump(nlohmann::json{{"op", "unload"}, {"codec", name}}), load_index);
    }
}

std::vector<Reply> Pool::run(std::span<const nlohmann::json> requests) {
    std::vector<Reply> replies(requests.size());
    if (requests.empty()) return replies;
    stats_.calls += requests.size();
    answering_ = &replies;
    answered_ = 0;
    queue_.clear();
    // A worker that ended while idle (killed from outside, say) is noticed before a call is sent to it: the call
    // must not be charged with its end.
    pump(replies, Clock::now());
    for (std::size_t i = 0; i < requests.size(); ++i) queue_.push_back(i);
    // However the workers fail, run() returns: by then every call has had its time limit, and a start.
    const auto give_up = Clock::now() + options_.start_timeout + options_.timeout * (requests.size() + 1);
    while (answered_ < replies.size()) {
        if (Clock::now() >= give_up) {
            for (std::size_t i = 0; i < replies.size(); ++i) {
                if (replies[i].ok() || !replies[i].error.empty()) continue;
                replies[i].error = "the JavaScript workers did not answer in time";
                ++answered_;
            }
            for (auto& w : workers_) {
                if (w->call_pending()) retire(*w, "did not answer in time");
            }
            break;
        }
        for (auto& w : workers_) {
            if (w->pid < 0 && Clock::now() >= no_start_before_) spawn(*w);
        }
        // One call at a time to each worker in turn, up to calls_in_flight each: a batch spreads evenly.
        for (bool sent = true; sent && !queue_.empty();) {
            sent = false;
            for (auto& w : workers_) {
                if (queue_.empty()) break;
                if (w->pid < 0 || !w->ready || w->load_pending() || w->pending.size() >= calls_in_flight) continue;
                const auto index = queue_.front();
                queue_.pop_front();
                send(*w, next_id_++, dump(requests[index]), index);
                sent = true;
            }
        }
        if (!any_starting()) {
            // No worker runs and none may start yet: everything still waiting fails with the reason.
            for (auto index : queue_) {
                replies[index].error = last_start_failure_.empty() ? "no JavaScript worker runs" : last_start_failure_;
                ++answered_;
            }
            queue_.clear();
            if (answered_ >= replies.size()) break;
            continue;
        }
        pump(replies, give_up);
    }
    answering_ = nullptr;
    queue_.clear();
    return replies;
}

Reply Pool::run_one(const nlohmann::json& request) {
    auto replies = run(std::span<const nlohmann::json>(&request, 1));
    return std::move(replies.front());
}

}  // namespace schwebe::decoders::js
