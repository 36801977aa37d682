#pragma once
// A GatewayEventSink that keeps everything it is given, for tests to inspect.

#include <vector>

#include "common/messages.hpp"

namespace schwebe::test {

struct RecordingSink : common::GatewayEventSink {
    std::vector<common::UplinkFrame> uplinks;
    std::vector<common::GatewayStats> stats;
    std::vector<common::DownlinkTxAck> tx_acks;
    std::vector<common::GatewayConnState> conn_states;

    void on_uplink(common::UplinkFrame frame) override { uplinks.push_back(std::move(frame)); }
    void on_stats(common::GatewayStats s) override { stats.push_back(std::move(s)); }
    void on_tx_ack(common::DownlinkTxAck ack) override { tx_acks.push_back(std::move(ack)); }
    void on_conn_state(common::GatewayConnState state) override { conn_states.push_back(state); }
};

}  // namespace schwebe::test
