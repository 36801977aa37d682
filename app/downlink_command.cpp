#include "app/downlink_command.hpp"

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "app/command_support.hpp"
#include "app/registry_json.hpp"
#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"
#include "integrations/sqlite/ns_store.hpp"
#include "lorawan/bytes.hpp"

namespace schwebe::app {

namespace {

using Json = nlohmann::ordered_json;

/// The largest EU868 FRMPayload (data rates 5 to 7), as the HTTP API and the store refuse anything longer.
constexpr std::size_t max_frm_payload = 242;

std::optional<lorawan::Eui64> parse_dev_eui(const std::string& text, std::string& error) {
    auto eui = lorawan::Eui64::from_hex(text);
    if (!eui) error = "--dev-eui: expected 16 hex digits, got '" + text + "'";
    return eui;
}

/// Opens the configured store, refuses a device that is not registered, then runs `f(queue_store)`; any exception
/// becomes a one-line reason.
template <class F>
int with_device_queue(const common::Config& config, const lorawan::Eui64& dev_eui, F&& f) {
    try {
        auto db = sqlite::Database::open(config.get("storage.sqlite_path"));
        sqlite::SqliteDeviceRegistry registry{db};
        if (!registry.find_device(dev_eui)) return fail("--dev-eui: no device " + dev_eui.to_string());
        sqlite::SqliteNsStore ns_store{db};
        return f(ns_store);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}


/// The store's refusals start with its field ("f_port: …", "data: …", "dev_eui: …"): named here as the options.
std::string as_option_error(const std::string& error) {
    for (const auto& [field, option] :
         {std::pair{"f_port:", "--fport:"}, std::pair{"data:", "--hex:"}, std::pair{"dev_eui:", "--dev-eui:"}}) {
        if (error.starts_with(field)) return option + error.substr(std::string_view(field).size());
    }
    return error;
}

}  // namespace

int downlink_enqueue(const common::Config& config, const DownlinkEnqueueArgs& args) {
    std::string error;
    const auto dev_eui = parse_dev_eui(args.dev_eui, error);
    if (!dev_eui) return fail(error);
    // LoRaWAN 1.0.4 §4.3.2: FPort 0 carries MAC commands, 224 is the test protocol's, 225..255 are reserved.
    if (args.f_port < 1 || args.f_port > 223) {
        return fail(
            "--fport: must be 1..223 (0 is reserved for MAC commands, 224..255 for the test protocol and "
            "future use), got " +
            std::to_string(args.f_port));
    }
    const auto data = lorawan::from_hex(args.hex);
    if (!data) return fail("--hex: expected an even number of hex digits");
    if (data->size() > max_frm_payload) {
        return fail("--hex: longer than " + std::to_string(max_frm_payload) + " bytes, the most any data rate carries");
    }
    return with_device_queue(config, *dev_eui, [&](sqlite::SqliteNsStore& ns_store) {
        const auto item = ns_store.enqueue(*dev_eui, static_cast<std::uint8_t>(args.f_port), *data, args.confirmed);
        if (!item) return fail(as_option_error(item.error()));
        std::cout << "downlink " << item->id << " queued for " << dev_eui->to_string() << " (f_port "
                  << static_cast<unsigned>(item->f_port) << ", " << item->data.size() << " bytes, "
                  << (item->confirmed ? "confirmed" : "unconfirmed") << ")\n";
        return 0;
    });
}

int downlink_list(const common::Config& config, const std::string& dev_eui_text, bool json) {
    std::string error;
    const auto dev_eui = parse_dev_eui(dev_eui_text, error);
    if (!dev_eui) return fail(error);
    return with_device_queue(config, *dev_eui, [&](sqlite::SqliteNsStore& ns_store) {
        const auto items = ns_store.queue(*dev_eui);
        if (json) {
            Json out = Json::array();
            for (const auto& item : items) out.push_back(queue_item_json(item));
            std::cout << out.dump(2) << '\n';
            return 0;
        }
        std::printf("%-36s  %-6s  %-9s  %-8s  %-10s  %-27s  %s\n", "ID", "F_PORT", "CONFIRMED", "ATTEMPTS",
                    "F_CNT_DOWN", "CREATED_AT", "HEX");
        for (const auto& item : items) {
            std::printf("%-36s  %-6u  %-9s  %-8u  %-10s  %-27s  %s\n", item.id.c_str(),
                        static_cast<unsigned>(item.f_port), item.confirmed ? "yes" : "no",
                        static_cast<unsigned>(item.attempts),
                        item.f_cnt_down ? std::to_string(*item.f_cnt_down).c_str() : "-",
                        sqlite::format_timestamp(item.created_at).c_str(), lorawan::to_hex(item.data).c_str());
        }
        return 0;
    });
}

int downlink_flush(const common::Config& config, const std::string& dev_eui_text) {
    std::string error;
    const auto dev_eui = parse_dev_eui(dev_eui_text, error);
    if (!dev_eui) return fail(error);
    return with_device_queue(config, *dev_eui, [&](sqlite::SqliteNsStore& ns_store) {
        const std::size_t removed = ns_store.flush_queue(*dev_eui);
        std::cout << removed << (removed == 1 ? " downlink" : " downlinks") << " removed from the queue of "
                  << dev_eui->to_string() << '\n';
        return 0;
    });
}

}  // namespace schwebe::app
