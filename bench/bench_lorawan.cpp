// The per-uplink cost of the protocol core: parse + MIC check + decrypt of a data uplink with a ready session,
// and the same with a session set up for every frame (what reusing the key schedules saves).
//
//   build/bench/bench_lorawan --benchmark_repetitions=10 --benchmark_report_aggregates_only=true

#include <benchmark/benchmark.h>

#include <array>

#include "lorawan/phy_payload.hpp"
#include "lorawan/session.hpp"

namespace lw = schwebe::lorawan;

namespace {

const lw::NwkSKey nwk_s_key = *lw::NwkSKey::from_hex("f46614d5caa4d7dcaa4bcce31210127d");
const lw::AppSKey app_s_key = *lw::AppSKey::from_hex("02fcbf1521523bd0a9654e1eaaacd84e");
constexpr std::uint32_t f_cnt = 1000;

/// An unconfirmed uplink of `payload_size` application bytes, as a gateway would deliver it.
lw::Bytes make_uplink(std::size_t payload_size) {
    lw::SessionCrypto session{nwk_s_key, app_s_key};
    lw::DataFrame f;
    f.dev_addr = lw::DevAddr{0x260b1001};
    f.f_port = 2;
    f.frm_payload.assign(payload_size, 0x5a);
    return std::move(build_data_frame(session, f, f_cnt)).value();
}

/// What the network server does per frame once the candidate session is found.
bool process(lw::SessionCrypto& session, const lw::Bytes& phy, std::array<std::uint8_t, 256>& plain) {
    auto parsed = lw::parse_phy_payload(phy);
    if (!parsed) return false;
    const auto& frame = std::get<lw::DataFrame>(parsed->body);
    const auto verified = lw::verify_data_uplink(session, frame, phy, f_cnt - 1);
    if (!verified) return false;
    session.crypt_frm_payload(*frame.f_port, lw::Direction::uplink, frame.dev_addr, verified->f_cnt, frame.frm_payload,
                              plain.data());
    return true;
}

void uplink_ready_session(benchmark::State& state) {
    const lw::Bytes phy = make_uplink(static_cast<std::size_t>(state.range(0)));
    lw::SessionCrypto session{nwk_s_key, app_s_key};
    std::array<std::uint8_t, 256> plain{};
    for (auto _ : state) {
        benchmark::DoNotOptimize(process(session, phy, plain));
        benchmark::DoNotOptimize(plain);
    }
    state.SetLabel("FRMPayload " + std::to_string(state.range(0)) + " B, PHYPayload " + std::to_string(phy.size()) +
                   " B");
}
BENCHMARK(uplink_ready_session)->Arg(7)->Arg(20)->Arg(51);

void uplink_fresh_session(benchmark::State& state) {
    const lw::Bytes phy = make_uplink(static_cast<std::size_t>(state.range(0)));
    std::array<std::uint8_t, 256> plain{};
    for (auto _ : state) {
        lw::SessionCrypto session{nwk_s_key, app_s_key};
        benchmark::DoNotOptimize(process(session, phy, plain));
    }
}
BENCHMARK(uplink_fresh_session)->Arg(20);

void parse_only(benchmark::State& state) {
    const lw::Bytes phy = make_uplink(20);
    for (auto _ : state) benchmark::DoNotOptimize(lw::parse_phy_payload(phy));
}
BENCHMARK(parse_only);

void mic_only(benchmark::State& state) {
    const lw::Bytes phy = make_uplink(20);
    lw::SessionCrypto session{nwk_s_key, app_s_key};
    const lw::ByteView msg = lw::ByteView{phy}.first(phy.size() - 4);
    for (auto _ : state) {
        benchmark::DoNotOptimize(session.data_mic(lw::Direction::uplink, lw::DevAddr{0x260b1001}, f_cnt, msg));
    }
}
BENCHMARK(mic_only);

void decrypt_only(benchmark::State& state) {
    lw::SessionCrypto session{nwk_s_key, app_s_key};
    const std::array<std::uint8_t, 20> cipher{};
    std::array<std::uint8_t, 20> plain{};
    for (auto _ : state) {
        session.crypt_frm_payload(2, lw::Direction::uplink, lw::DevAddr{0x260b1001}, f_cnt, cipher, plain.data());
        benchmark::DoNotOptimize(plain);
    }
}
BENCHMARK(decrypt_only);

}  // namespace

BENCHMARK_MAIN();
