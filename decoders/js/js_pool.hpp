#pragma once
// A small pool of Node.js worker processes that run JavaScript payload codecs (TS013 and the legacy forms; the
// worker's side and the protocol are in codec_worker.js).
//
// Why processes: Debian 12 packages no embeddable ES2015+ engine (README, "JavaScript codecs"). A worker is the
// isolation boundary. The pool keeps each call's time limit: a worker that has not answered its current call
// within it (a codec that loops), that exhausts its heap limit, crashes or sends garbage is killed and replaced.
// Only the call it was running fails; the calls queued behind it go to the other workers, every other call of the
// batch is answered, and the answers come back in the order of the calls.
//
// Synchronous by design: run() returns when every call has an answer. Calls are spread over the workers, up to 8
// ahead on each (a worker goes from one call to the next without waiting for the server); a call's time limit
// starts when the answer before it arrives. It is meant for one thread (the network server's, or a command's);
// it is not thread-safe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace schwebe::decoders::js {

struct PoolOptions {
    std::string node = "node";  ///< the node binary: a path, or a name looked up in PATH
    unsigned workers = 2;
    std::chrono::milliseconds timeout{100};      ///< per call, from the previous answer (or the send) to this one
    unsigned memory_mb = 128;                    ///< the worker's V8 heap limit (--max-old-space-size)
    std::size_t max_output_bytes = 1 << 20;      ///< a larger result is an error
    std::chrono::milliseconds start_timeout{10'000};  ///< for node to start and compile the codecs
};

/// One answer: `result` is the codec function's return value (parsed JSON), or `error` says why there is none.
struct Reply {
    std::optional<nlohmann::json> result;
    std::string error;
    [[nodiscard]] bool ok() const noexcept { return result.has_value(); }
};

/// What happened to the pool so far (for metrics and tests).
struct PoolStats {
    std::uint64_t calls = 0;
    std::uint64_t timeouts = 0;         ///< calls that hit the time limit (their worker was replaced)
    std::uint64_t workers_started = 0;
    std::uint64_t workers_replaced = 0; ///< killed or died while in use
};

class Pool {
public:
    explicit Pool(PoolOptions options);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Compiles a codec under a name in every worker (replacing one of the same name); workers started later get
    /// it too. Returns the reason when it does not compile (calls to it then answer that reason) or when no worker
    /// could start.
    std::optional<std::string> load(const std::string& name, const std::string& source);
    void unload(const std::string& name);
    [[nodiscard]] bool loaded(const std::string& name) const { return sources_.contains(name); }
    /// Whether the last load() that failed to compile left the version loaded before in use.
    [[nodiscard]] bool last_load_kept_previous() const noexcept { return load_kept_; }
    /// Why a codec is no longer loaded, when compiling it ended a worker (it is then not sent to new ones).
    [[nodiscard]] std::optional<std::string> dropped(const std::string& name) const {
        const auto it = dropped_.find(name);
        return it == dropped_.end() ? std::nullopt : std::optional<std::string>(it->second);
    }

    /// Runs requests: each a JSON object with "op", "codec" and the op's input (codec_worker.js). Answers in order.
    std::vector<Reply> run(std::span<const nlohmann::json> requests);
    Reply run_one(const nlohmann::json& request);

    [[nodiscard]] const PoolStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const PoolOptions& options() const noexcept { return options_; }
    /// The node version the workers run ("v20.20.2"), once one has started.
    [[nodiscard]] const std::string& node_version() const noexcept { return node_version_; }

private:
    struct Worker;
    void spawn(Worker& w);
    void retire(Worker& w, const std::string& reason);
    void send(Worker& w, std::uint64_t id, const std::string& json, std::size_t index);
    /// How long a worker may take to answer a request (its reply index; a load's is the start timeout).
    [[nodiscard]] std::chrono::milliseconds budget_of(std::size_t index) const;
    bool flush(Worker& w);
    void read_from(Worker& w, std::vector<Reply>& replies);
    void on_message(Worker& w, const nlohmann::json& message, std::vector<Reply>& replies);
    /// Waits for I/O or the earliest deadline, then handles it; false when there is nothing left to wait for.
    bool pump(std::vector<Reply>& replies, std::chrono::steady_clock::time_point until);
    [[nodiscard]] bool any_starting() const;
    std::string frame_of(std::uint64_t id, const std::string& json) const;

    PoolOptions options_;
    std::string node_path_;
    std::vector<std::string> argv_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::map<std::string, std::string> sources_;  ///< what a new worker must load
    std::uint64_t next_id_ = 1;
    PoolStats stats_;
    std::string node_version_;
    std::string last_start_failure_;
    unsigned failed_starts_ = 0;
    std::chrono::steady_clock::time_point no_start_before_{};
    std::vector<Reply>* answering_ = nullptr;  ///< the replies of the run() or load() under way
    std::deque<std::size_t> queue_;            ///< the run()'s calls not sent to a worker yet
    std::string load_error_;                   ///< the load() under way: the first compile error
    bool load_kept_ = false;                   ///< … and the workers kept the version before
    std::map<std::string, std::string> dropped_;  ///< codecs whose compiling ended a worker: why
    std::size_t answered_ = 0;
};

}  // namespace schwebe::decoders::js
