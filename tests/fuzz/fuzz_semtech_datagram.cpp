// Fuzz target over the Semtech UDP codec: the datagram header, PUSH_DATA JSON (one parser reused across inputs, as
// the bridge does) and TX_ACK JSON. Besides "no crash, no read past the end" (ASan/UBSan), it checks what must hold
// for any input:
// - a header that parses is a gateway→server message whose EUI and JSON are the datagram's bytes;
// - every accepted rxpk has stat 1, a size equal to its decoded data, and base64 that round-trips; where the whole
//   text is valid JSON (nlohmann, an independent reader, is the judge) the accepted rxpk agree with it field by field;
// - uplink ids are handed out one per RxInfo, in order;
// - the PULL_RESP built from an accepted frame is JSON that carries the same payload, size and frequency.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "common/messages.hpp"
#include "gateway-bridge/semtech_packet.hpp"

namespace br = schwebe::bridge;
namespace cm = schwebe::common;
using json = nlohmann::json;

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

constexpr br::Eui64 fallback_gateway = br::Eui64::from_u64(0x0102030405060708);
constexpr cm::SystemTime received_at{std::chrono::seconds{1'700'000'000}};

// nlohmann keeps the last of duplicate keys, the codec may see each; texts with duplicates are not compared.
json parse_unique(br::ByteView text) {
    std::vector<std::set<std::string>> keys;
    bool duplicate = false;
    const auto callback = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
            keys.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
            if (!keys.empty()) keys.pop_back();
        } else if (event == json::parse_event_t::key && !keys.empty()) {
            if (!keys.back().insert(parsed.get<std::string>()).second) duplicate = true;
        }
        return true;
    };
    json j = json::parse(text.begin(), text.end(), callback, false);
    if (duplicate) return json(json::value_t::discarded);
    return j;
}

// A member of an object, or null: nlohmann's const operator[] must not be asked for a missing key.
const json& member(const json& object, const char* key) {
    static const json null;
    const auto it = object.find(key);
    return it == object.end() ? null : *it;
}

void check_rx_info(const cm::RxInfo& rx, const br::Eui64& gateway, std::uint32_t& expected_id) {
    check(rx.gateway_id == gateway);
    check(rx.received_at == received_at);
    check(rx.crc_status == cm::CrcStatus::ok);
    check(rx.uplink_id == ++expected_id);
}

void check_pull_resp(const br::RxPacket& p) {
    cm::DownlinkItem item;
    item.phy_payload = p.frame.phy_payload;
    item.frequency_hz = p.frame.tx_info.frequency_hz;
    item.modulation = p.frame.tx_info.modulation;
    item.timing = cm::TimingDelay{std::chrono::seconds{1}};
    item.context_tmst = p.frame.rx_info.tmst;
    const br::Bytes d = br::make_pull_resp(2, {0x12, 0x34}, item);
    check(d.size() > 4 && d[0] == 2 && d[1] == 0x12 && d[2] == 0x34 && d[3] == 0x03);
    const json root = json::parse(d.begin() + 4, d.end(), nullptr, false);
    check(root.is_object() && member(root, "txpk").is_object());
    const json& txpk = member(root, "txpk");
    check(member(txpk, "size").is_number_unsigned() &&
          member(txpk, "size").get<std::uint64_t>() == item.phy_payload.size());
    check(member(txpk, "data").is_string() &&
          cm::base64_decode(member(txpk, "data").get<std::string>()) == item.phy_payload);
    check(member(txpk, "freq").is_number() &&
          std::llround(member(txpk, "freq").get<double>() * 1e6) == item.frequency_hz);
    check(member(txpk, "tmst").is_number_unsigned() &&
          member(txpk, "tmst").get<std::uint64_t>() == static_cast<std::uint32_t>(item.context_tmst + 1'000'000U));
}

void check_push_data(br::ByteView text, const br::Eui64& gateway) {
    static br::PushDataParser parser;
    static std::uint32_t counter = 0;

    std::uint32_t expected_id = counter;
    const auto r = parser.parse(text, gateway, received_at, counter);
    if (!r) {
        check(r.error() == br::PacketError::invalid_json || r.error() == br::PacketError::wrong_json_type);
        return;
    }

    for (const br::RxPacket& p : r->rxpk) {
        check_rx_info(p.frame.rx_info, gateway, expected_id);
        for (const cm::RxInfo& more : p.more_antennas) check_rx_info(more, gateway, expected_id);
        check(cm::base64_decode(cm::base64_encode(p.frame.phy_payload)) == p.frame.phy_payload);
        if (const auto* lora = std::get_if<cm::LoraModulation>(&p.frame.tx_info.modulation)) {
            check(lora->spreading_factor >= 5 && lora->spreading_factor <= 12);
            check(lora->bandwidth_hz == 125'000 || lora->bandwidth_hz == 250'000 || lora->bandwidth_hz == 500'000);
        } else {
            check(std::get<cm::FskModulation>(p.frame.tx_info.modulation).bit_rate > 0);
        }
        check_pull_resp(p);
    }
    check(expected_id == counter);
    for (std::size_t i = 1; i < r->rejected.size(); ++i) check(r->rejected[i - 1].index < r->rejected[i].index);

    // Against the independent reader, when the text is plain valid JSON.
    const json doc = parse_unique(text);
    if (!doc.is_object()) return;
    if (!doc.contains("rxpk")) {
        check(r->rxpk.empty() && r->rejected.empty());
        return;
    }
    const json& rxpk = member(doc, "rxpk");
    check(rxpk.is_array());
    check(r->rxpk.size() + r->rejected.size() == rxpk.size());
    std::size_t next_rejected = 0;
    std::size_t next_accepted = 0;
    for (std::size_t i = 0; i < rxpk.size(); ++i) {
        if (next_rejected < r->rejected.size() && r->rejected[next_rejected].index == i) {
            ++next_rejected;
            continue;
        }
        const br::RxPacket& p = r->rxpk[next_accepted++];
        const json& e = rxpk[i];
        check(e.is_object());
        check(member(e, "stat").is_number_integer() && member(e, "stat").get<std::int64_t>() == 1);
        check(member(e, "size").is_number_unsigned() &&
              member(e, "size").get<std::uint64_t>() == p.frame.phy_payload.size());
        check(member(e, "data").is_string() &&
              cm::base64_decode(member(e, "data").get<std::string>()) == p.frame.phy_payload);
        check(member(e, "tmst").is_number_unsigned() && member(e, "tmst").get<std::uint64_t>() == p.frame.rx_info.tmst);
        check(member(e, "freq").is_number() &&
              static_cast<std::uint32_t>(std::round(member(e, "freq").get<double>() * 1e6)) ==
                  p.frame.tx_info.frequency_hz);
    }
    check(next_accepted == r->rxpk.size() && next_rejected == r->rejected.size());
}

void check_tx_ack(br::ByteView text) {
    const auto r = br::parse_tx_ack(text);
    if (!r) {
        check(r.error() == br::PacketError::invalid_json || r.error() == br::PacketError::wrong_json_type);
        return;
    }
    check(cm::tx_ack_status_from_string(cm::to_string(*r)) == *r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const br::ByteView bytes{data, size};

    const auto header = br::parse_header(bytes);
    if (!header) {
        // Let the JSON readers see the input anyway: most mutations of a JSON seed break the header bytes too.
        check_push_data(bytes, fallback_gateway);
        check_tx_ack(bytes);
        return 0;
    }

    // §2: only gateway→server messages get this far, each with its EUI in bytes 4..11 and JSON after.
    const br::Header& h = *header;
    check(size >= 12 && size <= br::max_datagram_size);
    check(h.type == br::PacketType::push_data || h.type == br::PacketType::pull_data ||
          h.type == br::PacketType::tx_ack);
    check(h.version == data[0] && h.token[0] == data[1] && h.token[1] == data[2]);
    check(h.gateway_id.has_value() && std::equal(h.gateway_id->bytes().begin(), h.gateway_id->bytes().end(), data + 4));
    check(h.json.size() == size - 12 && h.json.data() == data + 12);
    const auto ack = br::make_ack(h);
    check(ack[0] == data[0] && ack[1] == data[1] && ack[2] == data[2]);
    check(ack[3] == (h.type == br::PacketType::push_data ? 0x01 : 0x04));

    check_push_data(h.json, *h.gateway_id);
    check_tx_ack(h.json);
    return 0;
}
