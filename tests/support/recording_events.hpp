#pragma once
// An ns::EventSink that keeps every event, for tests to inspect.

#include <vector>

#include "network-server/events.hpp"

namespace schwebe::test {

struct RecordingEvents : ns::EventSink {
    std::vector<ns::Event> events;

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
};

}  // namespace schwebe::test
