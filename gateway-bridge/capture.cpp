#include "gateway-bridge/capture.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "common/gateway_json.hpp"

namespace schwebe::bridge {

namespace {

/// RFC 3339 in UTC with exactly six fraction digits: lines sort and compare as text.
std::string capture_time(std::chrono::system_clock::time_point t) {
    const auto us = std::chrono::time_point_cast<std::chrono::microseconds>(t);
    const auto seconds = std::chrono::floor<std::chrono::seconds>(us);
    auto fraction = static_cast<std::uint32_t>((us - seconds).count());  // 0..999999
    std::string text = common::format_rfc3339(seconds);                  // "…:ssZ"
    std::string digits = ".000000";
    for (std::size_t i = 6; i >= 1; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
    text.insert(text.size() - 1, digits);
    return text;
}

}  // namespace

std::optional<common::Eui64> datagram_gateway_id(lorawan::ByteView datagram) {
    // Semtech GWMP: version, token (2), identifier, then the gateway EUI (8) in the gateway→server types
    // PUSH_DATA (0x00), PULL_DATA (0x02) and TX_ACK (0x05).
    if (datagram.size() < 12) return std::nullopt;
    const auto type = datagram[3];
    if (type != 0x00 && type != 0x02 && type != 0x05) return std::nullopt;
    std::array<std::uint8_t, 8> bytes{};
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = datagram[4 + i];
    return common::Eui64{bytes};
}

std::string capture_line(const CaptureRecord& record) {
    nlohmann::ordered_json line;
    line["time"] = capture_time(record.time);
    line["gateway_id"] = record.gateway_id ? nlohmann::ordered_json(record.gateway_id->to_string()) : nullptr;
    line["from"] = record.from;
    line["data"] = common::base64_encode(record.data);
    return line.dump();
}

lorawan::Result<std::optional<CaptureRecord>, std::string> parse_capture_line(std::string_view text) {
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) return std::optional<CaptureRecord>{};
    const auto line = nlohmann::json::parse(text, nullptr, false);
    if (line.is_discarded() || !line.is_object()) return std::string("not a JSON object");
    if (line.contains("schwebe_capture")) {
        if (line["schwebe_capture"] != 1) return std::string("schwebe_capture: this is format 1");
        return std::optional<CaptureRecord>{};
    }
    CaptureRecord record;
    const auto time = line.find("time");
    if (time == line.end() || !time->is_string()) return std::string("time: expected RFC 3339");
    const auto parsed_time = common::parse_rfc3339(time->get<std::string>());
    if (!parsed_time) return std::string("time: expected RFC 3339");
    record.time = *parsed_time;
    if (const auto g = line.find("gateway_id"); g != line.end() && !g->is_null()) {
        const auto eui = g->is_string() ? common::Eui64::from_hex(g->get<std::string>()) : std::nullopt;
        if (!eui) return std::string("gateway_id: expected 16 hex digits or null");
        record.gateway_id = *eui;
    }
    const auto from = line.find("from");
    if (from == line.end() || !from->is_string()) return std::string("from: expected host:port");
    record.from = from->get<std::string>();
    const auto data = line.find("data");
    auto bytes = data != line.end() && data->is_string() ? common::base64_decode(data->get<std::string>())
                                                           : std::nullopt;
    if (!bytes) return std::string("data: expected base64");
    record.data = std::move(*bytes);
    return std::optional<CaptureRecord>{std::move(record)};
}

CaptureWriter::CaptureWriter(const std::string& path) : out_(path, std::ios::app | std::ios::binary), path_(path) {
    if (!out_) throw std::runtime_error("bridge.capture_file: cannot open " + path);
    out_ << nlohmann::ordered_json{{"schwebe_capture", 1}, {"started", capture_time(std::chrono::system_clock::now())}}
                .dump()
         << '\n';
    out_.flush();
    if (!out_) throw std::runtime_error("bridge.capture_file: cannot write " + path);
}

void CaptureWriter::record(lorawan::ByteView datagram, std::string_view from,
                           std::chrono::system_clock::time_point time) {
    if (failed_) return;
    out_ << capture_line(CaptureRecord{.time = time,
                                       .gateway_id = datagram_gateway_id(datagram),
                                       .from = std::string(from),
                                       .data = lorawan::Bytes(datagram.begin(), datagram.end())})
         << '\n';
    if (out_) ++records_;
}

bool CaptureWriter::flush() {
    if (failed_) return false;
    out_.flush();
    if (!out_) failed_ = true;  // a full disk stops the capture, never the bridge (the caller logs it)
    return !failed_;
}

}  // namespace schwebe::bridge
