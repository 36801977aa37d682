#include "sim/city_sim.hpp"

#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cmath>
#include <ctime>
#include <deque>
#include <optional>
#include <queue>

#include "lorawan/eu868.hpp"
#include "lorawan/join.hpp"
#include "lorawan/mac_commands.hpp"
#include "lorawan/phy_payload.hpp"
#include "lorawan/session.hpp"
#include "sim/simulated_gateway.hpp"

namespace schwebe::sim {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

nlohmann::json SimSummary::to_json() const {
    return {{"frames", frames},
            {"frames_heard", frames_heard},
            {"frames_unheard", frames_unheard},
            {"join_requests", join_requests},
            {"joins_accepted", joins_accepted},
            {"otaa_devices", otaa_devices},
            {"devices_joined", devices_joined},
            {"push_data", push_data},
            {"push_acks", push_acks},
            {"lost", lost},
            {"duplicates", duplicates},
            {"pull_data", pull_data},
            {"pull_acks", pull_acks},
            {"stats", stats},
            {"downlinks", downlinks},
            {"rx1", rx1},
            {"rx2", rx2},
            {"rx1_too_late", rx1_too_late},
            {"rx_window_misses", rx_window_misses},
            {"miss_reasons", miss_reasons},
            {"tx_acks", tx_acks},
            {"mac_commands", mac_commands},
            {"planted", planted},
            {"sim_seconds", sim_seconds},
            {"wall_seconds", std::round(wall_seconds * 1000) / 1000}};
}

namespace {

constexpr int max_eirp_dbm = lorawan::eu868::max_eirp_dbm;
/// An uplink is remembered this long (wall clock) for the downlinks that answer it: past RX2 of a join-accept.
constexpr auto uplink_memory = seconds{8};

/// One uplink as the gateways reported it: what a downlink answering it must match.
struct SentUplink {
    Clock::time_point sent;
    bool join = false;
    std::uint32_t frequency_hz = 0;
    std::uint8_t dr = 0;
    std::vector<std::pair<std::size_t, std::uint32_t>> heard;  ///< gateway index, tmst
    bool answered = false;
};

struct LiveDevice {
    const DeviceSpec* spec = nullptr;
    DeviceBehaviour behaviour;
    std::optional<lorawan::SessionCrypto> session;
    std::optional<lorawan::JoinCrypto> join;
    lorawan::DevAddr dev_addr;
    std::uint32_t f_cnt_up = 0;
    std::optional<std::uint32_t> f_cnt_down;  ///< the highest downlink counter taken
    std::deque<std::uint32_t> f_cnts_taken;   ///< the last downlink counters taken: a counter used twice is a miss
    std::uint16_t dev_nonce = 0;
    bool join_pending = false;
    SimTime next_join{};
    std::uint8_t dr = 0;
    int eirp_dbm = max_eirp_dbm;
    std::vector<std::uint32_t> channels_hz{lorawan::eu868::default_channels_hz.begin(),
                                           lorawan::eu868::default_channels_hz.end()};
    std::uint8_t rx1_delay_s = 1;
    std::uint8_t rx1_dr_offset = 0;
    std::uint8_t rx2_dr = lorawan::eu868::rx2_dr;
    std::uint32_t rx2_frequency_hz = lorawan::eu868::rx2_frequency_hz;
    lorawan::Bytes pending_mac;  ///< answers for the next uplink's FOpts
    bool ack_next = false;       ///< a confirmed downlink to acknowledge
    std::deque<SentUplink> uplinks;
    lorawan::Bytes last_phy;     ///< the last data frame a gateway heard, for the planted replay
    std::uint32_t last_frequency_hz = 0;
    std::size_t last_gateway = 0;

    LiveDevice(const DeviceSpec& s, SimTime start, std::uint64_t seed) : spec(&s), behaviour(s, start, seed) {}
    [[nodiscard]] bool has_session() const { return session.has_value(); }
    [[nodiscard]] SimTime next_event() const { return has_session() ? behaviour.next() : next_join; }
};

std::optional<std::uint8_t> dr_of_datr(const std::string& datr) {
    unsigned sf = 0, bw = 0;
    if (std::sscanf(datr.c_str(), "SF%uBW%u", &sf, &bw) != 2) return std::nullopt;
    return lorawan::eu868::dr_of_lora(static_cast<std::uint8_t>(sf), bw * 1000);
}

}  // namespace

struct CitySim::Impl {
    asio::io_context& io;
    const City& city;
    CityOptions city_options;
    SimOptions options;
    Radio radio;
    Rng rng;
    std::vector<std::unique_ptr<SimulatedGateway>> gateways;
    std::vector<std::uint32_t> tmst_offset;  // each gateway's counter started at its own time
    std::vector<LiveDevice> devices;
    std::map<std::uint32_t, std::vector<std::size_t>> by_dev_addr;
    GroundTruth truth;
    SimSummary summary;
    Clock::time_point wall_start;
    SimTime sim_end;
    asio::steady_timer step_timer{io};
    asio::steady_timer keepalive_timer{io};
    asio::steady_timer stats_timer{io};
    std::vector<std::uint64_t> rx_counts;  // per gateway, for stat reports
    std::vector<std::uint64_t> tx_counts;
    std::vector<std::uint64_t> dwn_counts;

    using Entry = std::pair<SimTime, std::size_t>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;

    Impl(asio::io_context& io_, const City& c, const CityOptions& co, SimOptions o)
        : io(io_), city(c), city_options(co), options(o), radio(c, co.seed), rng(co.seed ^ 0xc17aULL) {
        for (const auto& g : city.gateways) {
            gateways.push_back(std::make_unique<SimulatedGateway>(io, g.id, options.server));
            tmst_offset.push_back(static_cast<std::uint32_t>(rng()));
        }
        rx_counts.assign(gateways.size(), 0);
        tx_counts.assign(gateways.size(), 0);
        dwn_counts.assign(gateways.size(), 0);
        for (std::size_t g = 0; g < gateways.size(); ++g) {
            gateways[g]->on_pull_resp = [this, g](const ReceivedDownlink& dl) { return on_downlink(g, dl); };
        }
        devices.reserve(city.devices.size());
        for (std::size_t i = 0; i < city.devices.size(); ++i) {
            const auto& spec = city.devices[i];
            auto& d = devices.emplace_back(spec, co.start, co.seed * 1000003ULL + i);
            d.dr = radio.initial_dr(i, d.eirp_dbm, 5.0);
            if (spec.otaa) {
                ++summary.otaa_devices;
                d.join.emplace(spec.app_key);
                d.dev_nonce = static_cast<std::uint16_t>(rng());
                d.next_join = d.behaviour.next();
            } else {
                d.session.emplace(spec.nwk_s_key, spec.app_s_key);
                d.dev_addr = spec.dev_addr;
                by_dev_addr[spec.dev_addr.value()].push_back(i);
            }
        }
    }

    // ---- clocks ----

    [[nodiscard]] std::uint32_t counter(std::size_t g) const {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - wall_start).count();
        return static_cast<std::uint32_t>(tmst_offset[g] + static_cast<std::uint64_t>(us));
    }
    [[nodiscard]] Clock::time_point wall_of(SimTime t) const {
        const auto sim_ms = std::chrono::duration<double, std::milli>(t - city_options.start).count();
        return wall_start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double, std::milli>(sim_ms / options.speed));
    }
    [[nodiscard]] SimTime sim_now() const {
        const auto wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - wall_start).count();
        return city_options.start + milliseconds{static_cast<std::int64_t>(wall_ms * options.speed)};
    }
    /// A delay of `wall` wall-clock time, expressed as simulated time.
    [[nodiscard]] milliseconds sim_of(Clock::duration wall) const {
        return milliseconds{static_cast<std::int64_t>(
            std::chrono::duration<double, std::milli>(wall).count() * options.speed)};
    }

    // ---- the air ----

    /// Sends a frame from device `i` through every gateway that hears it; true when at least one did.
    bool transmit(std::size_t i, const lorawan::Bytes& phy, bool join) {
        auto& d = devices[i];
        ++summary.frames;
        const auto channel = std::uniform_int_distribution<std::size_t>(0, d.channels_hz.size() - 1)(rng);
        const std::uint32_t frequency = d.channels_hz[channel];
        SentUplink up{Clock::now(), join, frequency, d.dr, {}, false};
        for (std::size_t g = 0; g < gateways.size(); ++g) {
            const auto reception = radio.receive(i, g, d.eirp_dbm, d.dr, rng);
            if (!reception) continue;
            if (std::uniform_real_distribution<double>(0, 1)(rng) < city_options.loss) continue;
            Rxpk p;
            p.phy_payload = phy;
            p.tmst = counter(g);
            p.freq_mhz = frequency / 1e6;
            p.chan = static_cast<std::uint32_t>(channel);
            const auto rate = lorawan::eu868::data_rate(d.dr);
            p.spreading_factor = rate ? rate->spreading_factor : 12;
            p.bandwidth_khz = rate ? rate->bandwidth_hz / 1000 : 125;
            p.rssi = reception->rssi;
            p.lsnr = reception->snr;
            const std::vector<Rxpk> packets{p};
            gateways[g]->push(packets);
            ++summary.push_data;
            ++rx_counts[g];
            if (std::uniform_real_distribution<double>(0, 1)(rng) < city_options.duplicate) {
                gateways[g]->push(packets);
                ++summary.push_data;
                ++summary.duplicates;
            }
            up.heard.emplace_back(g, p.tmst);
        }
        if (up.heard.empty()) {
            ++summary.frames_unheard;
            return false;
        }
        ++summary.frames_heard;
        d.last_frequency_hz = frequency;
        d.last_gateway = up.heard.front().first;
        while (!d.uplinks.empty() && Clock::now() - d.uplinks.front().sent > uplink_memory) d.uplinks.pop_front();
        d.uplinks.push_back(std::move(up));
        return true;
    }

    void send_join_request(std::size_t i, SimTime now) {
        auto& d = devices[i];
        lorawan::JoinRequest request{d.spec->join_eui, d.spec->dev_eui, ++d.dev_nonce, {}};
        request.mic = d.join->join_request_mic(request);
        ++summary.join_requests;
        d.join_pending = true;
        transmit(i, lorawan::serialize(request), true);
        // Retry after a simulated minute, but never before the join-accept windows have passed on the wall clock.
        d.next_join = now + std::max<milliseconds>(std::chrono::minutes{1}, sim_of(seconds{7}));
    }

    void send_data(std::size_t i) {
        auto& d = devices[i];
        const Payload payload = d.behaviour.produce();
        lorawan::DataFrame frame;
        frame.m_type = lorawan::MType::unconfirmed_data_up;
        frame.dev_addr = d.dev_addr;
        frame.f_ctrl.adr = true;
        frame.f_ctrl.ack = d.ack_next;
        frame.f_port = payload.f_port;
        frame.frm_payload = payload.bytes;
        const auto max = lorawan::eu868::max_payload(d.dr);
        if (!d.pending_mac.empty() && max && 8 + d.pending_mac.size() + payload.bytes.size() <= max->mac_payload) {
            if (auto opts = lorawan::FOpts::from(d.pending_mac)) {
                frame.f_opts = *opts;
                d.pending_mac.clear();
            }
        }
        d.ack_next = false;
        const auto phy = lorawan::build_data_frame(*d.session, frame, d.f_cnt_up);
        ++d.f_cnt_up;
        if (!phy) return;
        if (transmit(i, *phy, false)) {
            truth.delivered(*d.spec, payload);
            d.last_phy = *phy;  // heard: the server has its counter, so the same frame again is a replay
        }
    }

    /// Device `i`'s event at simulated time `now`.
    void act(std::size_t i, SimTime now) {
        auto& d = devices[i];
        if (!d.has_session()) {
            send_join_request(i, now);
        } else {
            // Payloads that fell due while the device was still joining were never measured.
            while (d.behaviour.next() + milliseconds{1000} < now) (void)d.behaviour.produce();
            send_data(i);
        }
        if (d.next_event() < sim_end) queue.emplace(d.next_event(), i);
    }

    // ---- downlinks ----

    std::string miss(const std::string& reason) {
        ++summary.rx_window_misses;
        ++summary.miss_reasons[reason];
        return "NONE";  // the gateway transmits it; no device listens
    }

    /// Which window of `up` (heard by gateway g) a downlink at tmst/frequency/dr lands in: 1, 2 or 0 for none.
    int window_of(const LiveDevice& d, const SentUplink& up, std::size_t g, std::uint32_t tmst,
                  std::uint32_t frequency_hz, std::uint8_t dr) const {
        for (const auto& [gateway, uplink_tmst] : up.heard) {
            if (gateway != g) continue;
            const std::uint32_t delay1 = up.join ? 5'000'000U : d.rx1_delay_s * 1'000'000U;
            const auto rx1_dr = lorawan::eu868::rx1_dr(up.dr, up.join ? 0 : d.rx1_dr_offset);
            if (tmst == uplink_tmst + delay1 && frequency_hz == up.frequency_hz && rx1_dr && dr == *rx1_dr) return 1;
            const std::uint8_t rx2_dr = up.join ? lorawan::eu868::rx2_dr : d.rx2_dr;
            const std::uint32_t rx2_hz = up.join ? lorawan::eu868::rx2_frequency_hz : d.rx2_frequency_hz;
            if (tmst == uplink_tmst + delay1 + 1'000'000U && frequency_hz == rx2_hz && dr == rx2_dr) return 2;
        }
        return 0;
    }

    /// Whether `tmst` at gateway g is the RX1 time of an uplink that gateway heard (of any device).
    [[nodiscard]] bool is_rx1_timing(std::size_t g, std::uint32_t tmst) const {
        for (const auto& d : devices) {
            for (const auto& up : d.uplinks) {
                const std::uint32_t delay1 = up.join ? 5'000'000U : d.rx1_delay_s * 1'000'000U;
                for (const auto& [gateway, uplink_tmst] : up.heard) {
                    if (gateway == g && tmst == uplink_tmst + delay1) return true;
                }
            }
        }
        return false;
    }

    std::string on_downlink(std::size_t g, const ReceivedDownlink& dl) {
        ++summary.downlinks;
        ++summary.tx_acks;
        ++dwn_counts[g];
        const auto& txpk = dl.txpk;
        if (!txpk.is_object() || !txpk.contains("tmst") || !txpk["tmst"].is_number_unsigned()) return miss("not_timed");
        const auto tmst = txpk["tmst"].get<std::uint32_t>();
        const auto frequency_hz = static_cast<std::uint32_t>(std::llround(txpk.value("freq", 0.0) * 1e6));
        const auto dr = dr_of_datr(txpk.value("datr", std::string()));
        if (!dr) return miss("bad_datr");
        // The gateway must hold it before its time: a packet forwarder answers TOO_LATE otherwise.
        // An RX1 offer that comes too late is answered so and followed by the server's RX2 offer: only when that
        // one is late too has the device missed its answer.
        if (static_cast<std::int32_t>(tmst - counter(g)) <= 0) {
            if (is_rx1_timing(g, tmst)) {
                ++summary.rx1_too_late;
            } else {
                ++summary.rx_window_misses;
                ++summary.miss_reasons["too_late"];
            }
            return "TOO_LATE";
        }
        const auto phy = lorawan::parse_phy_payload(dl.phy_payload);
        if (!phy) return miss("unparseable");
        if (const auto* accept = std::get_if<lorawan::EncryptedJoinAccept>(&phy->body)) {
            return on_join_accept(g, *accept, tmst, frequency_hz, *dr);
        }
        const auto* frame = std::get_if<lorawan::DataFrame>(&phy->body);
        if (!frame || frame->direction() != lorawan::Direction::downlink) return miss("not_a_downlink");
        const auto it = by_dev_addr.find(frame->dev_addr.value());
        if (it == by_dev_addr.end()) return miss("unknown_dev_addr");
        for (const std::size_t i : it->second) {
            auto& d = devices[i];
            // The 32-bit counter nearest the highest taken. Time runs faster than the RX windows (which keep their
            // real length), so one device's windows can overlap: an RX2 answer to an earlier uplink may come after
            // an RX1 answer to a later one and carry the lower counter. A counter used twice is the miss.
            const std::uint32_t last = d.f_cnt_down.value_or(0);
            std::uint32_t f_cnt = (last & 0xffff0000U) | frame->f_cnt_16;
            if (d.f_cnt_down && f_cnt <= last && last - f_cnt >= 0x8000U) f_cnt += 0x10000U;
            const lorawan::ByteView msg{dl.phy_payload.data(), dl.phy_payload.size() - 4};
            if (!d.session->verify_data_mic(lorawan::Direction::downlink, frame->dev_addr, f_cnt, msg, frame->mic)) {
                continue;
            }
            if (std::find(d.f_cnts_taken.begin(), d.f_cnts_taken.end(), f_cnt) != d.f_cnts_taken.end()) {
                return miss("f_cnt_down_reused");
            }
            for (auto& up : d.uplinks) {
                if (up.answered || up.join) continue;
                const int window = window_of(d, up, g, tmst, frequency_hz, *dr);
                if (window == 0) continue;
                up.answered = true;
                (window == 1 ? summary.rx1 : summary.rx2) += 1;
                d.f_cnt_down = std::max(f_cnt, d.f_cnt_down.value_or(0));
                d.f_cnts_taken.push_back(f_cnt);
                if (d.f_cnts_taken.size() > 16) d.f_cnts_taken.pop_front();
                apply_downlink(d, *frame, f_cnt);
                return "NONE";
            }
            return miss("outside_rx_windows");
        }
        return miss("mic_mismatch");
    }

    std::string on_join_accept(std::size_t g, const lorawan::EncryptedJoinAccept& encrypted, std::uint32_t tmst,
                               std::uint32_t frequency_hz, std::uint8_t dr) {
        for (std::size_t i = 0; i < devices.size(); ++i) {
            auto& d = devices[i];
            if (!d.join_pending) continue;
            for (auto& up : d.uplinks) {
                if (!up.join || up.answered) continue;
                const int window = window_of(d, up, g, tmst, frequency_hz, dr);
                if (window == 0) continue;
                const auto accept = d.join->open_join_accept(encrypted);
                if (!accept) break;  // another device's
                up.answered = true;
                (window == 1 ? summary.rx1 : summary.rx2) += 1;
                ++summary.joins_accepted;
                const auto keys = d.join->derive_session_keys(accept->join_nonce, accept->net_id, d.dev_nonce);
                if (d.has_session()) {
                    auto& old = by_dev_addr[d.dev_addr.value()];
                    std::erase(old, i);
                }
                d.session.emplace(keys.nwk_s_key, keys.app_s_key);
                d.dev_addr = accept->dev_addr;
                by_dev_addr[d.dev_addr.value()].push_back(i);
                d.f_cnt_up = 0;
                d.f_cnt_down.reset();
                d.f_cnts_taken.clear();
                d.join_pending = false;
                d.rx1_delay_s = accept->rx_delay == 0 ? 1 : accept->rx_delay;
                d.rx1_dr_offset = accept->dl_settings.rx1_dr_offset;
                d.rx2_dr = accept->dl_settings.rx2_dr;
                d.channels_hz.assign(lorawan::eu868::default_channels_hz.begin(), lorawan::eu868::default_channels_hz.end());
                if (accept->cf_list) {
                    for (const auto hz : accept->cf_list->frequencies) {
                        if (hz != 0) d.channels_hz.push_back(hz);
                    }
                }
                // The device's first data uplink follows its schedule, from now on.
                return "NONE";
            }
        }
        return miss("join_accept_for_no_device");
    }

    void apply_downlink(LiveDevice& d, const lorawan::DataFrame& frame, std::uint32_t f_cnt) {
        if (frame.confirmed()) d.ack_next = true;
        lorawan::Bytes mac(frame.f_opts.view().begin(), frame.f_opts.view().end());
        if (frame.f_port == 0) {
            mac = d.session->crypt_frm_payload(0, lorawan::Direction::downlink, frame.dev_addr, f_cnt, frame.frm_payload);
        }
        const auto commands = lorawan::parse_mac_commands(mac, lorawan::Direction::downlink);
        std::vector<lorawan::MacCommand> answers;
        for (const auto& command : commands.commands) {
            ++summary.mac_commands;
            if (const auto* adr = std::get_if<lorawan::LinkAdrReq>(&command)) {
                if (adr->data_rate != 15) d.dr = adr->data_rate;
                if (adr->tx_power != 15) {
                    d.eirp_dbm = lorawan::eu868::tx_power_eirp_dbm(adr->tx_power).value_or(d.eirp_dbm);
                }
                answers.emplace_back(lorawan::LinkAdrAns{true, true, true});
            } else if (std::holds_alternative<lorawan::DevStatusReq>(command)) {
                answers.emplace_back(lorawan::DevStatusAns{200, 8});
            } else if (const auto* rx = std::get_if<lorawan::RxParamSetupReq>(&command)) {
                d.rx1_dr_offset = rx->rx1_dr_offset;
                d.rx2_dr = rx->rx2_data_rate;
                d.rx2_frequency_hz = rx->frequency;
                answers.emplace_back(lorawan::RxParamSetupAns{true, true, true});
            } else if (const auto* timing = std::get_if<lorawan::RxTimingSetupReq>(&command)) {
                d.rx1_delay_s = timing->delay == 0 ? 1 : timing->delay;
                answers.emplace_back(lorawan::RxTimingSetupAns{});
            } else if (std::holds_alternative<lorawan::DutyCycleReq>(command)) {
                answers.emplace_back(lorawan::DutyCycleAns{});
            } else if (const auto* channel = std::get_if<lorawan::NewChannelReq>(&command)) {
                if (channel->frequency != 0 &&
                    std::find(d.channels_hz.begin(), d.channels_hz.end(), channel->frequency) == d.channels_hz.end()) {
                    d.channels_hz.push_back(channel->frequency);
                }
                answers.emplace_back(lorawan::NewChannelAns{true, true});
            } else if (std::holds_alternative<lorawan::DlChannelReq>(command)) {
                answers.emplace_back(lorawan::DlChannelAns{true, true});
            } else if (std::holds_alternative<lorawan::TxParamSetupReq>(command)) {
                answers.emplace_back(lorawan::TxParamSetupAns{});
            }
        }
        if (auto bytes = lorawan::serialize(answers); bytes && bytes->size() <= lorawan::FOpts::max_size) {
            d.pending_mac = std::move(*bytes);
        }
    }

    // ---- gateways' own traffic ----

    void keepalive() {
        for (auto& g : gateways) {
            g->pull();
            ++summary.pull_data;
        }
        keepalive_timer.expires_after(options.keepalive);
        keepalive_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) keepalive();
        });
    }

    void report_stats() {
        for (std::size_t g = 0; g < gateways.size(); ++g) {
            const nlohmann::json stat = {{"lati", city.gateways[g].position.latitude},
                                         {"long", city.gateways[g].position.longitude},
                                         {"alti", 160},
                                         {"rxnb", rx_counts[g]},
                                         {"rxok", rx_counts[g]},
                                         {"rxfw", rx_counts[g]},
                                         {"ackr", 100.0},
                                         {"dwnb", dwn_counts[g]},
                                         {"txnb", dwn_counts[g]}};
            nlohmann::json s = stat;
            const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
            std::tm utc{};
            gmtime_r(&now, &utc);
            char text[40];
            std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
            s["time"] = text;
            gateways[g]->push({}, s);
            ++summary.push_data;
            ++summary.stats;
            rx_counts[g] = 0;
            dwn_counts[g] = 0;
        }
        stats_timer.expires_after(options.stats_interval);
        stats_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) report_stats();
        });
    }

    // ---- planted faults ----

    void plant() {
        // A strict-counter ABP device that was heard: its last frame sent again (a replay), and its next frame with
        // a forged MIC.
        for (std::size_t i = 0; i < devices.size(); ++i) {
            auto& d = devices[i];
            if (d.spec->otaa || d.spec->kind == DeviceKind::parking || d.last_phy.empty()) continue;
            Rxpk p;
            p.phy_payload = d.last_phy;
            p.tmst = counter(d.last_gateway);
            p.freq_mhz = d.last_frequency_hz / 1e6;
            const auto rate = lorawan::eu868::data_rate(d.dr);
            p.spreading_factor = rate ? rate->spreading_factor : 12;
            p.rssi = -90;
            p.lsnr = 5;
            gateways[d.last_gateway]->push({p});
            ++summary.push_data;
            truth.planted("fcnt_duplicate");

            lorawan::DataFrame frame;
            frame.m_type = lorawan::MType::unconfirmed_data_up;
            frame.dev_addr = d.dev_addr;
            frame.f_port = 2;
            frame.frm_payload = {0xde, 0xad};
            auto forged = lorawan::build_data_frame(*d.session, frame, d.f_cnt_up + 1);
            if (forged) {
                forged->back() ^= 0x5a;
                p.phy_payload = *forged;
                p.tmst = counter(d.last_gateway);
                gateways[d.last_gateway]->push({p});
                ++summary.push_data;
                truth.planted("mic_mismatch");
            }
            summary.planted += 2;
            break;
        }
        gateways.front()->push_json(R"({"rxpk":[{"tmst":1,)");  // cut short
        ++summary.push_data;
        truth.planted("invalid_json");
        ++summary.planted;
    }
};

CitySim::CitySim(asio::io_context& io, const City& city, const CityOptions& city_options, SimOptions options)
    : impl_(std::make_unique<Impl>(io, city, city_options, options)) {}
CitySim::~CitySim() = default;

const GroundTruth& CitySim::truth() const {
    return impl_->truth;
}

SimSummary CitySim::run(const std::function<void(const Progress&)>& progress) {
    Impl& s = *impl_;
    s.wall_start = Clock::now();
    s.sim_end = s.city_options.start + s.city_options.duration;
    for (std::size_t i = 0; i < s.devices.size(); ++i) {
        if (s.devices[i].next_event() < s.sim_end) s.queue.emplace(s.devices[i].next_event(), i);
    }
    s.keepalive();
    s.report_stats();

    bool traffic_done = false;
    std::function<void()> step = [&] {
        const SimTime now = s.sim_now();
        while (!s.queue.empty() && s.queue.top().first <= now) {
            const auto [t, i] = s.queue.top();
            s.queue.pop();
            s.act(i, t);
        }
        if (s.queue.empty()) {
            traffic_done = true;
            return;
        }
        s.step_timer.expires_at(std::min(s.wall_of(s.queue.top().first), Clock::now() + milliseconds{50}));
        s.step_timer.async_wait([&](const boost::system::error_code& ec) {
            if (!ec) step();
        });
    };
    step();

    auto last_progress = Clock::now();
    const auto report = [&](double fraction) {
        if (!progress) return;
        std::uint64_t acks = 0;
        for (const auto& g : s.gateways) acks += g->push_acks.size();
        s.summary.push_acks = acks;
        progress(Progress{fraction, std::min(s.sim_now(), s.city_options.start + s.city_options.duration), &s.summary});
    };
    const double total_ms = std::chrono::duration<double, std::milli>(s.city_options.duration).count();
    while (!traffic_done) {
        s.io.run_for(milliseconds{20});
        if (s.io.stopped()) s.io.restart();
        if (Clock::now() - last_progress >= s.options.progress_interval) {
            last_progress = Clock::now();
            const double done = std::chrono::duration<double, std::milli>(s.sim_now() - s.city_options.start).count();
            report(std::clamp(done / total_ms, 0.0, 1.0));
        }
    }
    // The rest of the simulated time passes without frames (no timer needed), then the answers are waited for.
    if (s.options.plant) {
        const auto until = Clock::now() + std::max<Clock::duration>(s.options.linger, seconds{2});
        while (Clock::now() < until) {
            s.io.run_for(milliseconds{20});
            if (s.io.stopped()) s.io.restart();
        }
        s.plant();
    }
    const auto until = Clock::now() + s.options.linger;
    while (Clock::now() < until) {
        s.io.run_for(milliseconds{20});
        if (s.io.stopped()) s.io.restart();
    }
    report(1.0);
    s.keepalive_timer.cancel();
    s.stats_timer.cancel();
    s.step_timer.cancel();
    s.io.poll();

    s.summary.push_acks = 0;
    s.summary.pull_acks = 0;
    for (const auto& g : s.gateways) {
        s.summary.push_acks += g->push_acks.size();
        s.summary.pull_acks += g->pull_acks.size();
    }
    s.summary.lost = s.summary.push_data > s.summary.push_acks ? s.summary.push_data - s.summary.push_acks : 0;
    for (const auto& d : s.devices) {
        if (d.spec->otaa && d.has_session()) ++s.summary.devices_joined;
    }
    s.summary.sim_seconds = std::chrono::duration<double>(s.city_options.duration).count();
    s.summary.wall_seconds = std::chrono::duration<double>(Clock::now() - s.wall_start).count();
    return s.summary;
}

}  // namespace schwebe::sim
