#include "network-server/network_server.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "lorawan/eu868.hpp"
#include "lorawan/mac_commands.hpp"
#include "lorawan/net_id.hpp"
#include "lorawan/phy_payload.hpp"
#include "network-server/adr.hpp"
#include "network-server/mac.hpp"

namespace schwebe::ns {

namespace {

constexpr std::uint32_t max_join_nonce = 0xffffff;  // 24 bits (LoRaWAN 1.0.4 §6.2.3)

std::optional<std::uint8_t> uplink_dr(const common::TxInfo& tx) {
    if (const auto* lora = std::get_if<common::LoraModulation>(&tx.modulation)) {
        return lorawan::eu868::dr_of_lora(lora->spreading_factor, lora->bandwidth_hz);
    }
    return lorawan::eu868::dr_of_fsk(std::get<common::FskModulation>(tx.modulation).bit_rate);
}

common::Modulation modulation_of(std::uint8_t dr) {
    const auto rate = lorawan::eu868::data_rate(dr);
    if (rate && rate->modulation == lorawan::eu868::Modulation::fsk) {
        return common::FskModulation{.bit_rate = rate->bit_rate, .frequency_deviation_hz = 25'000};
    }
    return common::LoraModulation{.spreading_factor = rate ? rate->spreading_factor : std::uint8_t{12},
                                  .bandwidth_hz = rate ? rate->bandwidth_hz : 125'000U,
                                  .code_rate = "4/5"};
}

std::chrono::seconds rx1_delay_of(std::uint8_t rx1_delay_s) {
    return std::chrono::seconds{rx1_delay_s == 0 ? 1 : rx1_delay_s};  // RxDelay 0 means 1 s (§5.7)
}

MacState initial_mac_state(const DeviceProfile& profile) {
    MacState mac;
    mac.rx1_delay_s = profile.rx1_delay_s;
    mac.rx1_dr_offset = profile.rx1_dr_offset;
    mac.rx2_dr = profile.rx2_dr;
    mac.rx2_frequency_hz = profile.rx2_frequency_hz;
    return mac;
}

DeviceInfo info_of(const DeviceRecord& r) {
    return DeviceInfo{.application_id = r.device.application_id,
                      .application_name = r.application_name,
                      .device_profile_id = r.profile.id,
                      .device_profile_name = r.profile.name,
                      .device_name = r.device.name,
                      .dev_eui = r.device.dev_eui,
                      .codec = r.profile.codec,
                      .tags = r.device.tags};
}

std::string_view reason_name(const lorawan::Error& e) { return lorawan::to_string(e.reason); }

}  // namespace

/// A device as the pipelines use it: the stored record and the crypto state built from it once.
struct NetworkServer::CachedDevice {
    DeviceRecord record;
    DeviceInfo info;
    std::optional<lorawan::SessionCrypto> session_crypto;
    std::optional<lorawan::JoinCrypto> join_crypto;
};

/// Everything one uplink set accumulates on its way through the steps.
struct NetworkServer::UplinkContext {
    UplinkFrameSet& set;
    std::chrono::system_clock::time_point now;
    std::uint8_t dr = 0;
    lorawan::PhyPayload phy{};
    // data uplinks
    lorawan::DataFrame* frame = nullptr;
    CachedDevice* device = nullptr;
    lorawan::VerifiedUplink verified{};
    std::optional<std::uint32_t> previous_f_cnt_up{};
    lorawan::Bytes payload{};                    // FRMPayload in clear
    std::vector<lorawan::MacCommand> mac_out{};  // answers and requests for the reply
    bool adr_changed = false;
};

/// A downlink waiting for its gateway's TX_ACK.
struct NetworkServer::PendingDownlink {
    lorawan::Eui64 dev_eui;
    DeviceInfo info;
    std::uint32_t f_cnt_down = 0;
    std::optional<QueueItem> queue_item;  // the application payload it carries
    std::vector<common::DownlinkItem> items;
    std::chrono::steady_clock::time_point expires;
};

/// The sets processed together: their changes are committed in one transaction, then their events and downlinks go
/// out. Each set's changes form a group; a group with a refused change (another writer got there first) releases
/// nothing.
struct NetworkServer::Batch {
    struct Group {
        std::size_t first_change = 0;
        std::size_t change_count = 0;
        std::vector<lorawan::Eui64> devices;  // forgotten from the cache when the group fails or changes a session
        bool forget_after_commit = false;
        std::vector<Event> events;
        std::optional<common::DownlinkFrame> downlink;
        std::optional<PendingDownlink> pending;
        std::string failure_reason = "store_conflict";
    };
    std::vector<Change> changes;
    std::vector<Group> groups;

    Group& open_group() {
        groups.emplace_back();
        groups.back().first_change = changes.size();
        return groups.back();
    }
    void add_change(Change c) {
        changes.push_back(std::move(c));
        ++groups.back().change_count;
    }
};

NetworkServer::NetworkServer(boost::asio::io_context& io, NetworkServerOptions options, NsStore& store,
                             common::DownlinkSender& gateways, EventSink& events, common::Metrics& metrics,
                             Clock clock)
    : options_(std::move(options)),
      store_(store),
      gateways_(gateways),
      events_(events),
      metrics_(metrics),
      clock_(std::move(clock)),
      dedup_(options_.dedup),
      timer_(io),
      rng_(std::random_device{}()),
      uplinks_total_(metrics.counter("schwebe_ns_uplinks_total", "data uplinks accepted")),
      joins_total_(metrics.counter("schwebe_ns_joins_total", "join-requests accepted")),
      downlinks_total_(metrics.counter("schwebe_ns_downlinks_scheduled_total", "downlinks handed to a gateway")),
      storage_errors_total_(metrics.counter("schwebe_ns_storage_errors_total", "batches the store failed to commit")) {
    const char* outcomes[] = {"first_copy", "copy_added", "late_copy", "overloaded"};
    for (std::size_t i = 0; i < dedup_outcomes_.size(); ++i) {
        dedup_outcomes_[i] = &metrics.counter("schwebe_ns_dedup_copies_total",
                                              "gateway copies by what deduplication did with them",
                                              {{"outcome", outcomes[i]}});
    }
}

NetworkServer::~NetworkServer() = default;

void NetworkServer::stop() { timer_.cancel(); }

// ---- gateway events ----

void NetworkServer::on_uplink(common::UplinkFrame frame) {
    const auto outcome = dedup_.add(std::move(frame), clock_.steady_now());
    dedup_outcomes_[static_cast<std::size_t>(outcome)]->inc();
    if (outcome == Deduplicator::Outcome::late_copy || outcome == Deduplicator::Outcome::overloaded) return;
    arm_timer();
}

void NetworkServer::on_stats(common::GatewayStats) {}
void NetworkServer::on_conn_state(common::GatewayConnState) {}

void NetworkServer::arm_timer() {
    const auto deadline = dedup_.next_deadline();
    if (!deadline) return;
    if (timer_deadline_ && *timer_deadline_ <= *deadline) return;  // already due earlier
    timer_deadline_ = *deadline;
    const auto wait = std::max(std::chrono::steady_clock::duration::zero(), *deadline - clock_.steady_now());
    timer_.expires_after(wait);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        timer_deadline_.reset();
        process_ready();
    });
}

void NetworkServer::process_ready() {
    auto sets = dedup_.take_ready(clock_.steady_now());
    if (!sets.empty()) {
        check_external_changes();
        expire_pending_downlinks();
        Batch batch;
        for (auto& set : sets) handle_set(set, batch);
        finish(batch);
        ++stats_.batches;
    }
    timer_deadline_.reset();
    timer_.cancel();
    arm_timer();
}

// ---- one uplink set ----

void NetworkServer::handle_set(UplinkFrameSet& set, Batch& batch) {
    UplinkContext ctx{set, clock_.system_now()};
    const auto dr = uplink_dr(set.tx_info);
    if (!dr) return drop(ctx, "invalid_data_rate", "modulation is not an EU868 data rate");
    ctx.dr = *dr;
    auto parsed = lorawan::parse_phy_payload(set.phy_payload);
    if (!parsed) return drop(ctx, reason_name(parsed.error()), parsed.error().detail);
    if (const auto gate = lorawan::require_uplink(parsed->mhdr.m_type); !gate) {
        return drop(ctx, reason_name(gate.error()), gate.error().detail);
    }
    ctx.phy = std::move(*parsed);
    if (auto* data = std::get_if<lorawan::DataFrame>(&ctx.phy.body)) {
        ctx.frame = data;
        handle_data_uplink(ctx, batch);
    } else if (std::holds_alternative<lorawan::JoinRequest>(ctx.phy.body)) {
        handle_join_request(ctx, batch);
    } else {
        drop(ctx, "proprietary_mtype_not_supported");
    }
}

void NetworkServer::handle_data_uplink(UplinkContext& ctx, Batch& batch) {
    if (!resolve_candidates(ctx)) return;
    if (!authenticate(ctx)) return;
    decrypt(ctx);
    batch.open_group();
    handle_mac_commands(ctx, batch);
    run_adr(ctx);
    commit_uplink(ctx, batch);
    schedule_class_a_reply(ctx, batch);
}

/// Several devices may share a DevAddr (DESIGN.md, Device lookup): all of them are candidates.
bool NetworkServer::resolve_candidates(UplinkContext& ctx) {
    if (devices_by_dev_addr(ctx.frame->dev_addr).empty()) {
        drop(ctx, "unknown_devaddr");
        return false;
    }
    return true;
}

/// The MIC under the reconstructed 32-bit counter, tried with each candidate session; the first that verifies
/// owns the frame. A replay or a duplicate fails here (lorawan::verify_data_uplink).
bool NetworkServer::authenticate(UplinkContext& ctx) {
    std::optional<lorawan::Error> refusal;
    for (CachedDevice* candidate : devices_by_dev_addr(ctx.frame->dev_addr)) {
        auto& session = *candidate->record.session;
        auto verified = lorawan::verify_data_uplink(*candidate->session_crypto, *ctx.frame, ctx.set.phy_payload,
                                                    session.f_cnt_up, candidate->record.profile.f_cnt_mode);
        if (verified) {
            ctx.device = candidate;
            ctx.verified = *verified;
            ctx.previous_f_cnt_up = session.f_cnt_up;
            return true;
        }
        // A duplicate under a verified MIC says more than another candidate's mismatch.
        if (!refusal || verified.error().reason != lorawan::Reject::mic_mismatch) refusal = verified.error();
    }
    drop(ctx, reason_name(*refusal), refusal->detail);
    return false;
}

void NetworkServer::decrypt(UplinkContext& ctx) {
    const auto& f = *ctx.frame;
    if (!f.f_port || f.frm_payload.empty()) return;
    ctx.payload = ctx.device->session_crypto->crypt_frm_payload(*f.f_port, lorawan::Direction::uplink, f.dev_addr,
                                                                ctx.verified.f_cnt, f.frm_payload);
}

/// MAC commands come in FOpts or, with FPort 0, as the (NwkSKey-encrypted) FRMPayload (§4.3.1.6).
void NetworkServer::handle_mac_commands(UplinkContext& ctx, Batch& batch) {
    const bool in_payload = ctx.frame->f_port == 0;
    const lorawan::ByteView bytes = in_payload ? lorawan::ByteView{ctx.payload} : ctx.frame->f_opts.view();
    auto& device = *ctx.device;
    auto& mac = device.record.session->mac;
    const auto parsed = lorawan::parse_mac_commands(bytes, lorawan::Direction::uplink);
    if (parsed.error) {
        batch.groups.back().events.push_back(LogEvent{
            .time = ctx.now, .device_info = device.info, .level = LogLevel::warning, .code = "UPLINK_MAC",
            .description = std::string("MAC commands cut short: ") + std::string(parsed.error->detail),
            .context = {{"stopped_at", std::to_string(parsed.stopped_at)}}});
    }
    const MacAnswers answers = apply_mac_commands(mac, parsed.commands);
    for (const auto name : answers.rejected) {
        log::info("device refused a MAC request", {{"dev_eui", device.info.dev_eui.to_string()}, {"command", name}});
    }
    for (const auto name : answers.unexpected) {
        log::debug("MAC answer without a request", {{"dev_eui", device.info.dev_eui.to_string()}, {"command", name}});
    }
    if (answers.link_check_req) ctx.mac_out.emplace_back(link_check_ans(ctx.set.rx_infos, ctx.dr));
    if (answers.device_time_req) ctx.mac_out.emplace_back(device_time_ans(reception_gps_time(ctx.set.rx_infos)));
    if (answers.dev_status) {
        const auto& s = *answers.dev_status;
        batch.groups.back().events.push_back(StatusEvent{
            .deduplication_id = ctx.set.deduplication_id,
            .time = ctx.now,
            .device_info = device.info,
            .margin = s.margin,
            .external_power_source = s.battery == 0,
            .battery_level_unavailable = s.battery == 255,
            .battery_level = (s.battery == 0 || s.battery == 255) ? 0.0
                                                                  : std::round(s.battery / 254.0 * 10000.0) / 100.0});
    }
    if (in_payload) ctx.payload.clear();  // MAC commands are not application data
}

/// The uplink joins the ADR history; with the ADR bit set and ADR on in the profile, a LinkADRReq goes out when the
/// algorithm wants other settings (DESIGN.md, ADR).
void NetworkServer::run_adr(UplinkContext& ctx) {
    auto& record = ctx.device->record;
    auto& mac = record.session->mac;
    mac.dr = ctx.dr;
    auto& history = mac.uplink_history;
    if (history.size() >= MacState::history_size) history.erase(history.begin());
    history.push_back(UplinkRecord{.f_cnt = ctx.verified.f_cnt,
                                   .max_snr = max_snr(ctx.set.rx_infos).value_or(0.0),
                                   .tx_power_index = mac.tx_power_index,
                                   .gateway_count = gateway_count(ctx.set.rx_infos)});
    if (!ctx.frame->f_ctrl.adr || !record.profile.adr_enabled) return;
    const AdrDecision want = adr_decide(AdrInput{.dr = mac.dr,
                                                 .tx_power_index = mac.tx_power_index,
                                                 .nb_trans = mac.nb_trans,
                                                 .installation_margin_db = record.profile.adr_margin_db,
                                                 .history = history});
    if (want == AdrDecision{mac.dr, mac.tx_power_index, mac.nb_trans}) return;
    // ChMaskCntl 6 (RP002 §2.4.5, EU868): "all defined channels on", whatever channels the device has.
    ctx.mac_out.emplace_back(lorawan::LinkAdrReq{.data_rate = want.dr,
                                                 .tx_power = want.tx_power_index,
                                                 .ch_mask = mac.ch_mask,
                                                 .ch_mask_cntl = 6,
                                                 .nb_trans = want.nb_trans});
    ctx.adr_changed = true;
}

void NetworkServer::commit_uplink(UplinkContext& ctx, Batch& batch) {
    auto& device = *ctx.device;
    auto& session = *device.record.session;
    if (ctx.verified.counter_reset) {
        batch.groups.back().events.push_back(
            LogEvent{.time = ctx.now, .device_info = device.info, .level = LogLevel::warning,
                     .code = "UPLINK_F_CNT_RESET", .description = "frame counter reset (relaxed mode)",
                     .context = {{"f_cnt", std::to_string(ctx.verified.f_cnt)},
                                 {"last_f_cnt", std::to_string(session.f_cnt_up.value_or(0))}}});
    }
    session.f_cnt_up = ctx.verified.f_cnt;
    batch.groups.back().devices.push_back(device.info.dev_eui);
    batch.add_change(UplinkCommit{.dev_eui = device.info.dev_eui,
                                  .dev_addr = session.dev_addr,
                                  .previous_f_cnt_up = ctx.previous_f_cnt_up,
                                  .f_cnt_up = ctx.verified.f_cnt,
                                  .mac = session.mac});
    const auto& f = *ctx.frame;
    // Only application data reaches the applications: a frame of MAC commands alone (no FPort, or FPort 0) is the
    // MAC layer's (shared vectors F09, F11).
    if (!f.f_port || *f.f_port == 0) return;
    batch.groups.back().events.push_back(UplinkEvent{.deduplication_id = ctx.set.deduplication_id,
                                                     .time = ctx.now,
                                                     .device_info = device.info,
                                                     .dev_addr = f.dev_addr,
                                                     .adr = f.f_ctrl.adr,
                                                     .dr = ctx.dr,
                                                     .f_cnt = ctx.verified.f_cnt,
                                                     .f_port = f.f_port,
                                                     .confirmed = f.confirmed(),
                                                     .data = ctx.payload,
                                                     .rx_info = ctx.set.rx_infos,
                                                     .tx_info = ctx.set.tx_info});
}

/// The Class A reply (DESIGN.md, Downlinks): the ACK of a confirmed uplink, MAC answers and requests, and the next
/// queued payload, within the maximum size of the DRs of both windows; FPending when more waits. Its FCntDown is
/// reserved in the same batch, so it is on disk before the frame leaves.
void NetworkServer::schedule_class_a_reply(UplinkContext& ctx, Batch& batch) {
    auto& device = *ctx.device;
    auto& record = device.record;
    auto& session = *record.session;
    auto& mac = session.mac;
    auto& group = batch.groups.back();
    const auto& f = *ctx.frame;

    // Requests the network makes on its own: the profile's RX settings, DevStatusReq at its interval.
    const auto& profile = record.profile;
    if (mac.rx1_dr_offset != profile.rx1_dr_offset || mac.rx2_dr != profile.rx2_dr ||
        mac.rx2_frequency_hz != profile.rx2_frequency_hz) {
        ctx.mac_out.emplace_back(lorawan::RxParamSetupReq{.rx1_dr_offset = profile.rx1_dr_offset,
                                                          .rx2_data_rate = profile.rx2_dr,
                                                          .frequency = profile.rx2_frequency_hz});
    }
    if (rx1_delay_of(mac.rx1_delay_s) != rx1_delay_of(profile.rx1_delay_s)) {
        ctx.mac_out.emplace_back(lorawan::RxTimingSetupReq{.delay = profile.rx1_delay_s});
    }
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(ctx.now.time_since_epoch()).count();
    const bool dev_status_due = profile.dev_status_interval.count() > 0 &&
                                now_s - mac.last_dev_status_request_s >= profile.dev_status_interval.count();
    if (dev_status_due) ctx.mac_out.emplace_back(lorawan::DevStatusReq{});

    // The queue: a confirmed item awaiting its ACK is settled by this uplink first.
    std::vector<QueueItem> queue;
    if (record.queue_size > 0) queue = store_.queue(device.info.dev_eui);
    auto next = queue.begin();
    if (next != queue.end() && next->f_cnt_down) {
        const std::uint32_t attempts_allowed = 1U + options_.confirmed_downlink_retries;
        if (f.f_ctrl.ack || next->attempts >= attempts_allowed) {
            group.events.push_back(AckEvent{.deduplication_id = ctx.set.deduplication_id,
                                            .time = ctx.now,
                                            .device_info = device.info,
                                            .queue_item_id = next->id,
                                            .acknowledged = f.f_ctrl.ack,
                                            .f_cnt_down = *next->f_cnt_down});
            batch.add_change(QueueItemRemoved{next->id});
            --record.queue_size;
            ++next;
        }
        // else: retried below, with a new FCntDown
    }

    const bool must_answer = f.confirmed() || f.f_ctrl.adr_ack_req || !ctx.mac_out.empty();
    if (!must_answer && next == queue.end()) return;

    const auto& gateway = *best_gateway(ctx.set.rx_infos);
    const auto rx1_dr = lorawan::eu868::rx1_dr(ctx.dr, mac.rx1_dr_offset).value_or(0);
    const auto limit_rx1 = lorawan::eu868::max_payload(rx1_dr);
    const auto limit_rx2 = lorawan::eu868::max_payload(mac.rx2_dr);
    const std::size_t max_frm = std::min(limit_rx1 ? limit_rx1->frm_payload : 51U,
                                         limit_rx2 ? limit_rx2->frm_payload : 51U);  // N, FOpts included

    // MAC commands in FOpts when they fit (15 bytes), else alone in an FPort 0 payload.
    lorawan::DataFrame reply;
    reply.m_type = lorawan::MType::unconfirmed_data_down;
    reply.dev_addr = session.dev_addr;
    reply.f_ctrl.ack = f.confirmed();
    reply.f_ctrl.adr = profile.adr_enabled;
    std::vector<lorawan::MacCommand> mac_sent;
    std::size_t mac_size = 0;
    for (const auto& c : ctx.mac_out) {
        const std::size_t size = mac_commands_size(std::span{&c, 1});
        if (mac_size + size > max_frm) break;
        mac_sent.push_back(c);
        mac_size += size;
    }
    std::optional<QueueItem> item;
    const auto mac_bytes = lorawan::serialize(mac_sent);
    if (mac_size <= lorawan::FOpts::max_size) {
        reply.f_opts = *lorawan::FOpts::from(mac_bytes.value());
        while (next != queue.end()) {
            if (next->data.size() > max_frm) {
                // Too large for this device's windows now: it would block the queue for good (ChirpStack drops it).
                group.events.push_back(LogEvent{
                    .time = ctx.now, .device_info = device.info, .level = LogLevel::error,
                    .code = "DOWNLINK_PAYLOAD_SIZE",
                    .description = "queue item dropped: larger than the receive windows' maximum payload",
                    .context = {{"queue_item_id", next->id},
                                {"size", std::to_string(next->data.size())},
                                {"max_size", std::to_string(max_frm)}}});
                batch.add_change(QueueItemRemoved{next->id});
                --record.queue_size;
                ++next;
                continue;
            }
            if (next->data.size() + mac_size <= max_frm) {
                item = *next;
                ++next;
            }
            break;
        }
    } else {
        reply.f_port = 0;
        reply.frm_payload = mac_bytes.value();
    }
    // The queue held only items too large to send: nothing is left to say, and an empty frame would spend airtime
    // and an FCntDown for nothing.
    if (!must_answer && !item) return;
    if (item) {
        reply.f_port = item->f_port;
        reply.frm_payload = item->data;
        if (item->confirmed) reply.m_type = lorawan::MType::confirmed_data_down;
    }
    reply.f_ctrl.f_pending = next != queue.end();

    // The requests this downlink carries await their answers in the next uplink.
    for (const auto& c : mac_sent) {
        if (const auto* r = std::get_if<lorawan::LinkAdrReq>(&c)) mac.pending_link_adr = *r;
        if (const auto* r = std::get_if<lorawan::RxParamSetupReq>(&c)) mac.pending_rx_param_setup = *r;
        if (const auto* r = std::get_if<lorawan::RxTimingSetupReq>(&c)) mac.pending_rx_timing_setup = *r;
        if (std::holds_alternative<lorawan::DevStatusReq>(c)) mac.last_dev_status_request_s = now_s;
    }

    const std::uint32_t f_cnt_down = session.n_f_cnt_down;
    auto phy = lorawan::build_data_frame(*device.session_crypto, reply, f_cnt_down);
    if (!phy) {
        log::error("downlink not built", {{"dev_eui", device.info.dev_eui.to_string()},
                                          {"reason", reason_name(phy.error())}});
        return;
    }
    session.n_f_cnt_down = f_cnt_down + 1;
    batch.add_change(FCntDownReservation{.dev_eui = device.info.dev_eui,
                                         .dev_addr = session.dev_addr,
                                         .f_cnt_down = f_cnt_down,
                                         .mac = mac});

    common::DownlinkFrame frame;
    frame.downlink_id = static_cast<std::uint32_t>(rng_());
    frame.gateway_id = gateway.gateway_id;
    const auto rx1_delay = rx1_delay_of(mac.rx1_delay_s);
    frame.items.push_back(downlink_item(lorawan::eu868::rx1_frequency_hz(ctx.set.tx_info.frequency_hz), rx1_dr,
                                        options_.rx1_tx_power_dbm, rx1_delay, gateway.tmst));
    frame.items.push_back(downlink_item(mac.rx2_frequency_hz, mac.rx2_dr, options_.rx2_tx_power_dbm,
                                        rx1_delay + std::chrono::seconds{1}, gateway.tmst));
    for (auto& it : frame.items) it.phy_payload = phy.value();
    group.pending = PendingDownlink{.dev_eui = device.info.dev_eui,
                                    .info = device.info,
                                    .f_cnt_down = f_cnt_down,
                                    .queue_item = item,
                                    .items = frame.items,
                                    .expires = clock_.steady_now() + options_.tx_ack_expiry};
    group.downlink = std::move(frame);
}

// ---- join ----

void NetworkServer::handle_join_request(UplinkContext& ctx, Batch& batch) {
    const auto& request = std::get<lorawan::JoinRequest>(ctx.phy.body);
    CachedDevice* device = device_by_eui(request.dev_eui);
    if (!device || device->record.profile.activation != Activation::otaa || !device->join_crypto) {
        return drop(ctx, "unknown_deveui");
    }
    auto& record = device->record;
    if (record.device.join_eui != request.join_eui) return drop(ctx, "join_eui_mismatch");
    if (const auto ok = device->join_crypto->verify_join_request(request); !ok) {
        return drop(ctx, reason_name(ok.error()), ok.error().detail);
    }
    // DevNonce: never reused (1.0.2, 1.0.3: checked by the store against every nonce seen); 1.0.4 counts up (§6.2.5).
    if (record.profile.mac_version == MacVersion::v1_0_4 && record.last_dev_nonce &&
        request.dev_nonce <= *record.last_dev_nonce) {
        return drop(ctx, "devnonce_reused", "DevNonce not above the last one (LoRaWAN 1.0.4)");
    }
    if (record.join_nonce >= max_join_nonce) return drop(ctx, "join_nonce_exhausted");
    const std::uint32_t join_nonce = record.join_nonce + 1;
    const auto keys = device->join_crypto->derive_session_keys(join_nonce, options_.net_id, request.dev_nonce);
    const auto dev_addr = allocate_dev_addr(keys.nwk_s_key);
    if (!dev_addr) return drop(ctx, "dev_addr_exhausted");
    DeviceSession session;
    session.dev_addr = *dev_addr;
    session.nwk_s_key = keys.nwk_s_key;
    session.app_s_key = keys.app_s_key;
    session.mac = initial_mac_state(record.profile);
    session.mac.dr = ctx.dr;
    lorawan::JoinAccept accept;
    accept.join_nonce = join_nonce;
    accept.net_id = options_.net_id;
    accept.dev_addr = *dev_addr;
    accept.dl_settings = {record.profile.rx1_dr_offset, record.profile.rx2_dr};
    accept.rx_delay = record.profile.rx1_delay_s;
    if (std::any_of(options_.cf_list_hz.begin(), options_.cf_list_hz.end(), [](auto hz) { return hz != 0; })) {
        accept.cf_list = lorawan::CfList{options_.cf_list_hz};
        session.mac.extra_channels_hz = options_.cf_list_hz;
        for (std::size_t i = 0; i < options_.cf_list_hz.size(); ++i) {
            if (options_.cf_list_hz[i] != 0) session.mac.ch_mask |= static_cast<std::uint16_t>(1U << (3 + i));
        }
    }
    auto phy = device->join_crypto->build_join_accept(accept);
    if (!phy) return drop(ctx, reason_name(phy.error()), phy.error().detail);

    auto& group = batch.open_group();
    group.failure_reason = "devnonce_reused";
    group.devices.push_back(request.dev_eui);
    group.forget_after_commit = true;  // the session changes: read it back from the store
    batch.add_change(JoinCommit{.dev_eui = request.dev_eui,
                                .dev_nonce = request.dev_nonce,
                                .join_nonce = join_nonce,
                                .session = session});
    group.events.push_back(JoinEvent{.deduplication_id = ctx.set.deduplication_id,
                                     .time = ctx.now,
                                     .device_info = device->info,
                                     .dev_addr = *dev_addr,
                                     .rx_info = ctx.set.rx_infos,
                                     .tx_info = ctx.set.tx_info});
    // The device applies DLSettings only once it has the join-accept: RX1 at the uplink's DR, RX2 at the defaults.
    const auto& gateway = *best_gateway(ctx.set.rx_infos);
    common::DownlinkFrame frame;
    frame.downlink_id = static_cast<std::uint32_t>(rng_());
    frame.gateway_id = gateway.gateway_id;
    frame.items.push_back(downlink_item(lorawan::eu868::rx1_frequency_hz(ctx.set.tx_info.frequency_hz), ctx.dr,
                                        options_.rx1_tx_power_dbm, lorawan::eu868::join_accept_delay1, gateway.tmst));
    frame.items.push_back(downlink_item(lorawan::eu868::rx2_frequency_hz, lorawan::eu868::rx2_dr,
                                        options_.rx2_tx_power_dbm, lorawan::eu868::join_accept_delay2, gateway.tmst));
    for (auto& it : frame.items) it.phy_payload = phy.value();
    group.pending = PendingDownlink{.dev_eui = request.dev_eui,
                                    .info = device->info,
                                    .f_cnt_down = 0,
                                    .queue_item = std::nullopt,
                                    .items = frame.items,
                                    .expires = clock_.steady_now() + options_.tx_ack_expiry};
    group.downlink = std::move(frame);
    // Two join-requests of one device in a batch: the second must see the first's JoinNonce.
    record.join_nonce = join_nonce;
    record.last_dev_nonce = std::max(record.last_dev_nonce.value_or(0), request.dev_nonce);
}

/// A NwkAddr under the NetID drawn from the new session's NwkSKey, preferring one no session uses (sharing is legal,
/// but costs MIC checks). Unpredictable without the device's AppKey, like a random one, yet the same join of the same
/// device on a fresh store gets the same address: a captured day of joins and uplinks replays (schwebe replay).
std::optional<lorawan::DevAddr> NetworkServer::allocate_dev_addr(const lorawan::NwkSKey& nwk_s_key) {
    const auto& k = nwk_s_key.bytes();
    std::optional<lorawan::DevAddr> candidate;
    for (std::uint32_t attempt = 0; attempt < 16; ++attempt) {
        const std::size_t o = (attempt % 4) * 4;
        const std::uint32_t bits = (std::uint32_t{k[o]} << 24 | std::uint32_t{k[o + 1]} << 16 |
                                    std::uint32_t{k[o + 2]} << 8 | std::uint32_t{k[o + 3]}) ^
                                   (attempt / 4) * 0x9e3779b9U;
        candidate = lorawan::dev_addr_for(options_.net_id, bits);
        if (!store_.dev_addr_in_use(*candidate)) return candidate;
    }
    return candidate;
}

// ---- batch commit ----

void NetworkServer::finish(Batch& batch) {
    // A group is released only when every one of its changes was applied (another writer may have got there first).
    std::vector<bool> released(batch.groups.size(), false);
    const auto release = [&](const std::vector<ChangeResult>& results) {
        for (std::size_t g = 0; g < batch.groups.size(); ++g) {
            const auto& group = batch.groups[g];
            bool applied = true;
            for (std::size_t i = 0; i < group.change_count; ++i) {
                if (results[group.first_change + i] != ChangeResult::applied) applied = false;
            }
            released[g] = applied;
        }
    };
    bool has_events = false;
    for (const auto& group : batch.groups) has_events = has_events || !group.events.empty();
    // The released groups' events, moved (not copied: this is the hot path) into one span for the sink, each
    // group's at [first, last).
    std::vector<Event> events;
    std::vector<std::pair<std::size_t, std::size_t>> event_ranges(batch.groups.size());
    if (!batch.changes.empty() || has_events) {
        if (has_events) {
            std::vector<const Event*> prepared;
            for (const auto& group : batch.groups) {
                for (const auto& event : group.events) prepared.push_back(&event);
            }
            events_.prepare(prepared);
        }
        bool staged = false;
        try {
            store_.commit(batch.changes, [&](const std::vector<ChangeResult>& results) {
                release(results);
                events.clear();
                for (std::size_t g = 0; g < batch.groups.size(); ++g) {
                    event_ranges[g].first = events.size();
                    if (released[g]) {
                        for (auto& event : batch.groups[g].events) events.push_back(std::move(event));
                    }
                    event_ranges[g].second = events.size();
                }
                if (events.empty()) return;
                staged = true;
                events_.stage(events);
            });
        } catch (const std::exception& e) {
            // Nothing of the batch is stored: nothing of it may be told or sent. The devices will send again.
            if (staged) events_.staged_done(false);
            storage_errors_total_.inc();
            log::error("store commit failed: uplinks of this batch dropped",
                       {{"error", e.what()}, {"changes", batch.changes.size()}});
            for (std::size_t g = 0; g < batch.groups.size(); ++g) count_drop("storage_error");
            forget_all();
            return;
        }
        if (staged) events_.staged_done(true);
    } else {
        release({});  // nothing to store: every group (none has a change) is released
    }
    for (std::size_t g = 0; g < batch.groups.size(); ++g) {
        auto& group = batch.groups[g];
        if (!released[g]) {
            for (const auto& dev_eui : group.devices) forget(dev_eui);
            count_drop(group.failure_reason);
            log::info("uplink dropped",
                      {{"reason", group.failure_reason},
                       {"dev_eui", group.devices.empty() ? std::string() : group.devices.front().to_string()}});
            continue;
        }
        for (std::size_t i = 0; i < group.change_count; ++i) {
            if (std::holds_alternative<UplinkCommit>(batch.changes[group.first_change + i])) {
                uplinks_total_.inc();
                ++stats_.uplinks;
            }
        }
        if (group.forget_after_commit) {
            for (const auto& dev_eui : group.devices) forget(dev_eui);
            for (std::size_t i = 0; i < group.change_count; ++i) {
                // The new session's address may be remembered as unknown.
                if (const auto* join = std::get_if<JoinCommit>(&batch.changes[group.first_change + i])) {
                    by_dev_addr_.erase(join->session.dev_addr.value());
                }
            }
        }
        for (std::size_t e = event_ranges[g].first; e < event_ranges[g].second; ++e) {
            Event& event = events[e];
            if (std::holds_alternative<JoinEvent>(event)) {
                joins_total_.inc();
                ++stats_.joins;
                log::info("join accepted", {{"dev_eui", device_info_of(event).dev_eui.to_string()},
                                            {"dev_addr", std::get<JoinEvent>(event).dev_addr.to_string()}});
            }
            events_.on_event(std::move(event));
        }
        if (group.downlink) {
            pending_downlinks_.insert_or_assign(group.downlink->downlink_id, std::move(*group.pending));
            downlinks_total_.inc();
            ++stats_.downlinks_scheduled;
            gateways_.send_downlink(std::move(*group.downlink));
        }
    }
}

void NetworkServer::count_drop(std::string_view reason) {
    ++stats_.dropped;
    auto counter = drops_.find(reason);
    if (counter == drops_.end()) {
        counter = drops_.emplace(std::string(reason),
                                 &metrics_.counter("schwebe_ns_uplink_drops_total", "uplink sets refused, by reason",
                                                   {{"reason", std::string(reason)}}))
                      .first;
    }
    counter->second->inc();
}

void NetworkServer::drop(const UplinkContext& ctx, std::string_view reason, std::string_view detail) {
    count_drop(reason);
    // Drops are expected outcomes (DESIGN.md): one line each, rate-limited per reason against floods.
    auto limit = drop_log_limits_.find(reason);
    if (limit == drop_log_limits_.end()) {
        limit = drop_log_limits_.emplace(std::string(reason), log::RateLimiter(5, std::chrono::seconds{10})).first;
    }
    std::uint64_t suppressed = 0;
    if (!limit->second.allow(clock_.steady_now(), suppressed)) return;
    const auto* gateway = best_gateway(ctx.set.rx_infos);
    log::info("uplink dropped", {{"reason", reason},
                                 {"detail", detail},
                                 {"deduplication_id", ctx.set.deduplication_id},
                                 {"gateway_id", gateway ? gateway->gateway_id.to_string() : std::string()},
                                 {"suppressed", suppressed}});
}

// ---- TX_ACK ----

void NetworkServer::on_tx_ack(common::DownlinkTxAck ack) {
    const auto it = pending_downlinks_.find(ack.downlink_id);
    if (it == pending_downlinks_.end()) {
        log::debug("TX_ACK for an unknown downlink", {{"downlink_id", ack.downlink_id}});
        return;
    }
    PendingDownlink pending = std::move(it->second);
    pending_downlinks_.erase(it);

    std::optional<std::size_t> sent;
    common::TxAckStatus status = common::TxAckStatus::internal_error;
    for (std::size_t i = 0; i < ack.items.size(); ++i) {
        if (ack.items[i] == common::TxAckStatus::ok) {
            sent = i;
            status = common::TxAckStatus::ok;
            break;
        }
        if (ack.items[i] != common::TxAckStatus::ignored) status = ack.items[i];
    }
    const std::string status_name(common::to_string(status));
    auto counter = tx_ack_results_.find(status_name);
    if (counter == tx_ack_results_.end()) {
        counter = tx_ack_results_
                      .emplace(status_name, &metrics_.counter("schwebe_ns_tx_ack_total", "downlink results by status",
                                                              {{"status", status_name}}))
                      .first;
    }
    counter->second->inc();

    TxAckEvent event{.downlink_id = ack.downlink_id,
                     .time = clock_.system_now(),
                     .device_info = pending.info,
                     .queue_item_id = pending.queue_item ? pending.queue_item->id : std::string(),
                     .f_cnt_down = pending.f_cnt_down,
                     .gateway_id = ack.gateway_id,
                     .status = status,
                     .item = std::nullopt};
    if (sent && *sent < pending.items.size()) {
        event.item = pending.items[*sent];
        event.item->phy_payload.clear();
    }
    std::vector<Change> changes;
    if (sent && pending.queue_item) {
        const auto& item = *pending.queue_item;
        changes.push_back(QueueItemSent{.id = item.id,
                                        .confirmed = item.confirmed,
                                        .f_cnt_down = pending.f_cnt_down,
                                        .attempts = static_cast<std::uint8_t>(item.attempts + 1)});
        if (!item.confirmed) {
            if (auto* d = device_by_eui(pending.dev_eui); d && d->record.queue_size > 0) --d->record.queue_size;
        }
    }
    if (!sent) {
        log::warn("downlink not sent", {{"dev_eui", pending.dev_eui.to_string()},
                                        {"gateway_id", ack.gateway_id.to_string()},
                                        {"status", status_name}});
    }
    // The queue change and the event in one transaction, like an uplink's.
    const Event staged_event{event};
    bool staged = false;
    try {
        store_.commit(changes, [&](const std::vector<ChangeResult>&) {
            staged = true;
            events_.stage(std::span<const Event>(&staged_event, 1));
        });
    } catch (const std::exception& e) {
        if (staged) events_.staged_done(false);
        storage_errors_total_.inc();
        log::error("store commit failed for a TX_ACK", {{"error", e.what()}, {"downlink_id", ack.downlink_id}});
        return;
    }
    events_.staged_done(true);
    events_.on_event(std::move(event));
}

void NetworkServer::expire_pending_downlinks() {
    const auto now = clock_.steady_now();
    std::erase_if(pending_downlinks_, [&](const auto& entry) { return entry.second.expires <= now; });
}

// ---- the queue ----

lorawan::Result<QueueItem, QueueError> NetworkServer::enqueue_downlink(const lorawan::Eui64& dev_eui,
                                                                      std::uint8_t f_port, lorawan::ByteView data,
                                                                      bool confirmed) {
    auto item = store_.enqueue(dev_eui, f_port, data, confirmed);
    if (item) {
        if (auto it = devices_.find(dev_eui.to_u64()); it != devices_.end()) ++it->second->record.queue_size;
    }
    return item;
}

// ---- the device cache ----

NetworkServer::CachedDevice* NetworkServer::adopt(DeviceRecord record) {
    const auto key = record.device.dev_eui.to_u64();
    if (auto it = devices_.find(key); it != devices_.end()) return it->second.get();
    auto cached = std::make_unique<CachedDevice>();
    cached->info = info_of(record);
    if (record.session) cached->session_crypto.emplace(record.session->nwk_s_key, record.session->app_s_key);
    if (record.device.app_key) cached->join_crypto.emplace(*record.device.app_key);
    cached->record = std::move(record);
    auto* raw = cached.get();
    devices_.emplace(key, std::move(cached));
    return raw;
}

NetworkServer::CachedDevice* NetworkServer::device_by_eui(const lorawan::Eui64& dev_eui) {
    if (auto it = devices_.find(dev_eui.to_u64()); it != devices_.end()) return it->second.get();
    auto record = store_.find_device(dev_eui);
    if (!record) return nullptr;
    if (devices_.size() >= options_.max_cached_devices) forget_all();  // before adopting: no pointer outlives it
    return adopt(std::move(*record));
}

const std::vector<NetworkServer::CachedDevice*>& NetworkServer::devices_by_dev_addr(lorawan::DevAddr dev_addr) {
    if (auto it = by_dev_addr_.find(dev_addr.value()); it != by_dev_addr_.end()) return it->second;
    if (by_dev_addr_.size() >= options_.max_unknown_dev_addrs + devices_.size()) by_dev_addr_.clear();
    auto records = store_.find_by_dev_addr(dev_addr);
    if (devices_.size() + records.size() > options_.max_cached_devices) forget_all();  // before adopting any
    std::vector<CachedDevice*> found;
    for (auto& record : records) {
        if (!record.session) continue;
        CachedDevice* device = adopt(std::move(record));
        if (device->record.session && device->record.session->dev_addr == dev_addr) found.push_back(device);
    }
    return by_dev_addr_.insert_or_assign(dev_addr.value(), std::move(found)).first->second;
}

void NetworkServer::forget(const lorawan::Eui64& dev_eui) {
    const auto it = devices_.find(dev_eui.to_u64());
    if (it == devices_.end()) return;
    // A device is listed under its session's address only; the other devices of that list are read again too.
    if (it->second->record.session) by_dev_addr_.erase(it->second->record.session->dev_addr.value());
    devices_.erase(it);
}

void NetworkServer::forget_all() {
    by_dev_addr_.clear();
    devices_.clear();
}

void NetworkServer::check_external_changes() {
    // The CLI or the API wrote devices, profiles, sessions or the queue: read everything again, lazily.
    if (store_.changed_externally()) forget_all();
}

common::DownlinkItem NetworkServer::downlink_item(std::uint32_t frequency_hz, std::uint8_t dr, std::int32_t power_dbm,
                                                  std::chrono::seconds delay, std::uint32_t tmst) const {
    common::DownlinkItem item;
    item.frequency_hz = frequency_hz;
    item.power_dbm = power_dbm;
    item.modulation = modulation_of(dr);
    item.polarization_inversion = true;
    item.timing = common::TimingDelay{std::chrono::duration_cast<std::chrono::microseconds>(delay)};
    item.context_tmst = tmst;
    return item;
}

}  // namespace schwebe::ns
