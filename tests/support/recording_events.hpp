#pragma once
// An ns::EventSink that keeps every event, for tests to inspect.

#include <span>
#include <stdexcept>
#include <vector>

#include "network-server/events.hpp"

namespace schwebe::test {

struct RecordingEvents : ns::EventSink {
    std::vector<ns::Event> events;
    /// What stage() was given, in transactions that committed.
    std::vector<ns::Event> staged;
    /// When set, stage() throws (an outbox that cannot be written).
    bool fail_stage = false;

    void stage(std::span<const ns::Event> batch) override {
        if (fail_stage) throw std::runtime_error("test: the event store refuses");
        pending_.insert(pending_.end(), batch.begin(), batch.end());
    }
    void staged_done(bool committed) override {
        if (committed) staged.insert(staged.end(), pending_.begin(), pending_.end());
        pending_.clear();
    }
    void on_event(ns::Event event) override { events.push_back(std::move(event)); }

    /// The events of one type, in order.
    template <class T>
    [[nodiscard]] std::vector<T> of() const {
        std::vector<T> out;
        for (const auto& e : events) {
            if (const auto* t = std::get_if<T>(&e)) out.push_back(*t);
        }
        return out;
    }

private:
    std::vector<ns::Event> pending_;
};

}  // namespace schwebe::test
