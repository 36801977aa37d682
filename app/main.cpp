// The `schwebe` binary: the one place that builds concrete objects and wires them (DESIGN.md, Layout).

#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include "app/codec_command.hpp"
#include "app/device_command.hpp"
#include "app/downlink_command.hpp"
#include "app/replay_command.hpp"
#include "app/sim_command.hpp"
#include "app/frame_json.hpp"
#include "app/gateway_command.hpp"
#include "app/serve.hpp"
#include "app/token_command.hpp"
#include "common/config.hpp"

namespace {

/// Reads one JSON object from stdin, runs `tool` on it, prints the result on one line (or indented).
template <class Tool>
int run_json_tool(Tool tool, bool pretty) {
    const std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    schwebe::app::Json result;
    const auto input = schwebe::app::Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (input.is_discarded()) {
        result = {{"error", "invalid_input"}, {"detail", "stdin is not one JSON object"}};
    } else {
        result = tool(input);
    }
    std::cout << result.dump(pretty ? 2 : -1) << '\n';
    return schwebe::app::exit_code_of(result);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Schwebe: a LoRaWAN network server for a city"};
    app.set_version_flag("--version", std::string("schwebe ") + SCHWEBE_VERSION);
    app.require_subcommand(1);
    // A usage error is one line on stderr, like every other refusal (DESIGN.md, Command line).
    app.failure_message(
        [](const CLI::App*, const CLI::Error& e) { return "schwebe: " + std::string(e.what()) + "\n"; });
    std::optional<std::string> config_file;
    app.add_option("--config", config_file, "TOML configuration file (default: built-in defaults)")
        ->check(CLI::ExistingFile);
    bool json = false;
    bool pretty = false;

    // frame
    CLI::App* frame = app.add_subcommand("frame", "Decode or build a LoRaWAN frame (JSON on stdin, JSON on stdout)");
    frame->require_subcommand(1);
    CLI::App* decode = frame->add_subcommand(
        "decode",
        "Decode a PHYPayload: {\"phy_payload\":hex, \"nwk_s_key\", \"app_s_key\", \"app_key\", \"dev_nonce\", "
        "\"last_f_cnt_up\", \"last_f_cnt_down\", \"f_cnt_mode\"} (keys as needed). Exit 0 valid, 1 refused "
        "(\"error\" names the reason), 2 invalid input");
    decode->add_flag("--pretty", pretty, "Indent the output");
    CLI::App* encode = frame->add_subcommand(
        "encode", "Build a frame from the decode vocabulary (m_type, dev_addr, f_cnt, f_ctrl, f_opts or "
                  "mac_commands, f_port, frm_payload, keys; join fields for joins). Exit 0 built, 2 invalid input");
    encode->add_flag("--pretty", pretty, "Indent the output");

    // config
    CLI::App* config_cmd = app.add_subcommand("config", "Configuration");
    config_cmd->require_subcommand(1);
    CLI::App* config_print =
        config_cmd->add_subcommand("print", "Print every setting's effective value and where it came from");
    config_print->add_flag("--json", json, "Print JSON");

    // gateway
    CLI::App* gateway = app.add_subcommand("gateway", "Gateways in the configured store");
    gateway->require_subcommand(1);
    schwebe::app::GatewayAddArgs add_args;
    CLI::App* gateway_add = gateway->add_subcommand("add", "Register a gateway (or update a registered one)");
    gateway_add->add_option("--gateway-id", add_args.gateway_id, "Gateway EUI, 16 hex digits")->required();
    gateway_add->add_option("--name", add_args.name, "Name")->required();
    gateway_add->add_option("--lat", add_args.latitude, "Latitude, degrees");
    gateway_add->add_option("--lon", add_args.longitude, "Longitude, degrees");
    gateway_add->add_option("--alt", add_args.altitude, "Altitude, metres");
    gateway_add->add_option("--tag", add_args.tags, "key=value (repeatable)");
    CLI::App* gateway_list = gateway->add_subcommand("list", "List registered and seen gateways");
    gateway_list->add_flag("--json", json, "Print JSON");
    std::string remove_id;
    CLI::App* gateway_remove = gateway->add_subcommand("remove", "Remove a gateway");
    gateway_remove->add_option("--gateway-id", remove_id, "Gateway EUI")->required();

    // profile
    CLI::App* profile = app.add_subcommand("profile", "Device profiles in the configured store");
    profile->require_subcommand(1);
    schwebe::app::ProfileAddArgs profile_args;
    CLI::App* profile_add = profile->add_subcommand("add", "Add a device profile");
    profile_add->add_option("--name", profile_args.name, "Name (unique)")->required();
    profile_add->add_option("--activation", profile_args.activation, "otaa or abp")->required();
    profile_add->add_option("--mac-version", profile_args.mac_version, "1.0.2, 1.0.3 or 1.0.4")->required();
    profile_add->add_option("--codec", profile_args.codec, "Payload codec (default: none)");
    profile_add->add_option("--fcnt-mode", profile_args.f_cnt_mode,
                            "strict (default) or relaxed (ABP devices whose counter resets at power-up)");
    profile_add->add_option("--adr-margin-db", profile_args.adr_margin_db, "ADR installation margin, dB (default 10)");
    profile_add->add_option("--adr", profile_args.adr, "on (default) or off");
    profile_add->add_option("--rx1-delay", profile_args.rx1_delay_s, "RX1 delay, 1..15 s (default 1)");
    profile_add->add_option("--rx1-dr-offset", profile_args.rx1_dr_offset, "RX1 data rate offset, 0..5 (default 0)");
    profile_add->add_option("--rx2-dr", profile_args.rx2_dr, "RX2 data rate, 0..7 (default 0)");
    profile_add->add_option("--rx2-frequency", profile_args.rx2_frequency_hz, "RX2 frequency, Hz (default 869525000)");
    profile_add->add_option("--dev-status-interval", profile_args.dev_status_interval_s,
                            "Seconds between DevStatusReq (battery, margin); 0: never (default 86400)");
    CLI::App* profile_list = profile->add_subcommand("list", "List device profiles");
    profile_list->add_flag("--json", json, "Print JSON");

    // device
    CLI::App* device = app.add_subcommand("device", "Devices in the configured store");
    device->require_subcommand(1);
    schwebe::app::DeviceAddArgs device_args;
    CLI::App* device_add = device->add_subcommand(
        "add",
        "Add a device: OTAA with --join-eui and --app-key, or ABP with --dev-addr, --nwk-s-key and --app-s-key, "
        "as its profile says");
    device_add->add_option("--dev-eui", device_args.dev_eui, "DevEUI, 16 hex digits")->required();
    device_add->add_option("--name", device_args.name, "Name")->required();
    device_add->add_option("--profile", device_args.profile, "Device profile name")->required();
    device_add->add_option("--application", device_args.application,
                           "Application name, created if there is none of that name (default: default)");
    device_add->add_option("--join-eui", device_args.join_eui, "OTAA: JoinEUI, 16 hex digits");
    device_add->add_option("--app-key", device_args.app_key, "OTAA: AppKey, 32 hex digits");
    device_add->add_option("--dev-addr", device_args.dev_addr, "ABP: DevAddr, 8 hex digits");
    device_add->add_option("--nwk-s-key", device_args.nwk_s_key, "ABP: NwkSKey, 32 hex digits");
    device_add->add_option("--app-s-key", device_args.app_s_key, "ABP: AppSKey, 32 hex digits");
    device_add->add_option("--tag", device_args.tags, "key=value (repeatable)");
    device_add->add_option("--lat", device_args.latitude, "Latitude, degrees");
    device_add->add_option("--lon", device_args.longitude, "Longitude, degrees");
    device_add->add_option("--alt", device_args.altitude, "Altitude, metres");
    std::optional<std::string> list_application;
    CLI::App* device_list = device->add_subcommand("list", "List devices");
    device_list->add_option("--application", list_application, "Only the devices of this application");
    device_list->add_flag("--json", json, "Print JSON");
    std::string device_eui;
    CLI::App* device_show = device->add_subcommand("show", "Show one device (keys: only whether each is set)");
    device_show->add_option("--dev-eui", device_eui, "DevEUI")->required();
    device_show->add_flag("--json", json, "Print JSON");
    CLI::App* device_remove = device->add_subcommand("remove", "Remove a device");
    device_remove->add_option("--dev-eui", device_eui, "DevEUI")->required();
    schwebe::app::DeviceImportArgs import_args;
    CLI::App* device_import = device->add_subcommand(
        "import", "Import devices from CSV (README, Device CSV). Exit 0 all rows imported, 1 rows refused (each on "
                  "stderr with line, column and reason), 2 the file unusable");
    device_import->add_option("file", import_args.file, "CSV file, or - for standard input")->required();
    device_import->add_flag("--all-or-nothing", import_args.all_or_nothing, "Import nothing when any row is refused");
    device_import->add_flag("--dry-run", import_args.dry_run, "Check every row, write nothing");
    device_import->add_flag("--json", import_args.json, "Print the summary as JSON");
    std::optional<std::string> export_file;
    bool with_keys = false;
    CLI::App* device_export = device->add_subcommand("export", "Write the devices as CSV in the import format");
    device_export->add_option("--application", list_application, "Only the devices of this application");
    device_export->add_option("--output,-o", export_file, "Write to this file (default: standard output)");
    device_export->add_flag("--with-keys", with_keys, "Include AppKey, NwkSKey and AppSKey (otherwise left blank)");

    // downlink
    CLI::App* downlink = app.add_subcommand("downlink", "Devices' downlink queues in the configured store");
    downlink->require_subcommand(1);
    schwebe::app::DownlinkEnqueueArgs enqueue_args;
    CLI::App* downlink_enqueue = downlink->add_subcommand(
        "enqueue", "Queue a downlink for a device; a running server sends it after the device's next uplink");
    downlink_enqueue->add_option("--dev-eui", enqueue_args.dev_eui, "DevEUI, 16 hex digits")->required();
    downlink_enqueue->add_option("--fport", enqueue_args.f_port, "FPort, 1..223")->required();
    downlink_enqueue->add_option("--hex", enqueue_args.hex, "Payload bytes in hex (plaintext), at most 242")
        ->required();
    downlink_enqueue->add_flag("--confirmed", enqueue_args.confirmed, "Ask the device to acknowledge it");
    std::string downlink_eui;
    CLI::App* downlink_list = downlink->add_subcommand("list", "List a device's queued downlinks in sending order");
    downlink_list->add_option("--dev-eui", downlink_eui, "DevEUI")->required();
    downlink_list->add_flag("--json", json, "Print JSON");
    CLI::App* downlink_flush = downlink->add_subcommand("flush", "Remove every queued downlink of a device");
    downlink_flush->add_option("--dev-eui", downlink_eui, "DevEUI")->required();

    // token
    CLI::App* token = app.add_subcommand("token", "HTTP API tokens in the configured store");
    token->require_subcommand(1);
    std::string token_name;
    CLI::App* token_create = token->add_subcommand(
        "create", "Create a token and print its secret on stdout, this once only (id and name on stderr)");
    token_create->add_option("--name", token_name, "Name (unique), e.g. the script that uses it")->required();
    token_create->add_flag("--json", json, "Print {id, name, created_at, token} as JSON");
    CLI::App* token_list = token->add_subcommand("list", "List tokens: id, name, created, last used (no secrets)");
    token_list->add_flag("--json", json, "Print JSON");
    std::string token_id_or_name;
    CLI::App* token_revoke = token->add_subcommand("revoke", "Revoke a token: the API refuses its secret from now on");
    token_revoke->add_option("id_or_name", token_id_or_name, "The token's id or name")->required();

    // codec
    CLI::App* codec = app.add_subcommand("codec", "Payload codecs");
    codec->require_subcommand(1);
    schwebe::app::CodecRunArgs codec_args;
    CLI::App* codec_run = codec->add_subcommand(
        "run", "Run a codec on bytes and print the TS013 result {data, warnings, errors, readings} (encode: {bytes, "
               "hex, fPort, warnings, errors}). Exit 0 decoded, 1 the codec reported errors, 2 invalid input");
    codec_run->add_option("--codec", codec_args.codec, "A native codec's name, or a JavaScript codec file (.js)")
        ->required();
    codec_run->add_option("--fport", codec_args.f_port, "FPort, 1..255")->required();
    codec_run->add_option("--hex", codec_args.hex, "Payload bytes in hex (an uplink, or with --downlink a downlink)");
    codec_run->add_option("--encode", codec_args.encode, "A JSON object for encodeDownlink");
    codec_run->add_flag("--downlink", codec_args.downlink, "Decode --hex with decodeDownlink");
    codec_run->add_flag("--pretty", codec_args.pretty, "Indent the output");
    CLI::App* codec_list = codec->add_subcommand("list", "List the native codecs");
    codec_list->add_flag("--json", json, "Print JSON");

    // replay
    schwebe::app::ReplayArgs replay_args;
    CLI::App* replay = app.add_subcommand(
        "replay", "Send a capture file's gateway traffic (bridge.capture_file) to a server again; print a summary");
    replay->add_option("file", replay_args.file, "Capture file (JSON lines)")->required();
    replay->add_option("--server", replay_args.server, "HOST:PORT (default: bridge.udp_bind, 0.0.0.0 as 127.0.0.1)");
    replay->add_option("--speed", replay_args.speed, "1: as recorded (default); 10: ten times faster; 0: at once");
    replay->add_option("--linger-ms", replay_args.linger_ms,
                       "Wait after the last datagram for acknowledgements and downlinks (default 1500)");

    // sim
    schwebe::app::SimArgs sim_args;
    CLI::App* sim = app.add_subcommand(
        "sim", "Simulate the city: gateways, parking sensors, environment sensors and heat meters sending their real "
               "payloads to a server over Semtech UDP (README: The simulated city)");
    sim->add_option("--server", sim_args.server, "HOST:PORT (default: bridge.udp_bind, 0.0.0.0 as 127.0.0.1)");
    sim->add_option("--gateways", sim_args.gateways, "Gateways along the valley (default 6)");
    sim->add_option("--zones", sim_args.zones, "Parking zones (default 5)");
    sim->add_option("--spots", sim_args.spots, "Parking spots per zone, one sensor each (default 40)");
    sim->add_option("--environment", sim_args.environment, "Indoor environment sensors, Elsys ERS CO2 (default 30)");
    sim->add_option("--meters", sim_args.meters, "Heat meters, Elvaco CMi4140 (default 20)");
    sim->add_option("--otaa-share", sim_args.otaa_share,
                    "Share of environment sensors and meters that join by OTAA (default 0.5; parking sensors are ABP)");
    sim->add_option("--hours", sim_args.hours, "Simulated hours (default 24)");
    sim->add_option("--speed", sim_args.speed, "Simulated seconds per second (default 60; 1440: a day in a minute)");
    sim->add_option("--seed", sim_args.seed, "Seed: the same seed gives the same city and traffic (default 1)");
    sim->add_option("--loss", sim_args.loss, "Chance that a gateway in range misses a frame (default 0.02)");
    sim->add_option("--duplicate", sim_args.duplicate, "Chance that a gateway forwards a frame twice (default 0.005)");
    sim->add_flag("--provision", sim_args.provision,
                  "First add the city's device profiles and devices to the configured store (device import)");
    sim->add_option("--devices-csv", sim_args.devices_csv, "Write the devices as CSV for schwebe device import");
    sim->add_flag("--provision-only", sim_args.provision_only, "Provision or write the CSV, send no traffic");
    sim->add_option("--truth", sim_args.truth, "Write the ground truth (uplinks, readings, parking) as JSON here");
    sim->add_flag("--plant", sim_args.plant,
                  "After the traffic, send a replayed frame, a forged MIC and a malformed datagram");
    sim->add_flag("--json", sim_args.json, "Print the summary as JSON");
    sim->add_option("--progress", sim_args.progress, "auto (a bar on a terminal), bar, lines or off");

    // serve
    std::vector<std::string> components{"bridge", "ns", "api"};
    CLI::App* serve = app.add_subcommand("serve", "Run Schwebe");
    serve->add_option("--components", components,
                      "Comma-separated: bridge (Semtech UDP), ns (network server), api (HTTP). Default: all; "
                      "'bridge' alone publishes gateway events to MQTT for a network server elsewhere")
        ->delimiter(',');

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (decode->parsed()) return run_json_tool(schwebe::app::decode_frame, pretty);
    if (encode->parsed()) return run_json_tool(schwebe::app::encode_frame, pretty);

    auto config = schwebe::common::Config::load(config_file, schwebe::common::Config::process_environment());
    if (!config) {
        std::cerr << "schwebe: " << config.error() << '\n';
        return 1;
    }
    if (config_print->parsed()) {
        std::cout << (json ? config->print_json() + "\n" : config->print());
        return 0;
    }
    if (gateway_add->parsed()) return schwebe::app::gateway_add(*config, add_args);
    if (gateway_list->parsed()) return schwebe::app::gateway_list(*config, json);
    if (gateway_remove->parsed()) return schwebe::app::gateway_remove(*config, remove_id);
    if (profile_add->parsed()) return schwebe::app::profile_add(*config, profile_args);
    if (profile_list->parsed()) return schwebe::app::profile_list(*config, json);
    if (device_add->parsed()) return schwebe::app::device_add(*config, device_args);
    if (device_list->parsed()) return schwebe::app::device_list(*config, list_application, json);
    if (device_show->parsed()) return schwebe::app::device_show(*config, device_eui, json);
    if (device_remove->parsed()) return schwebe::app::device_remove(*config, device_eui);
    if (device_import->parsed()) return schwebe::app::device_import(*config, import_args);
    if (device_export->parsed()) return schwebe::app::device_export(*config, list_application, export_file, with_keys);
    if (downlink_enqueue->parsed()) return schwebe::app::downlink_enqueue(*config, enqueue_args);
    if (downlink_list->parsed()) return schwebe::app::downlink_list(*config, downlink_eui, json);
    if (downlink_flush->parsed()) return schwebe::app::downlink_flush(*config, downlink_eui);
    if (token_create->parsed()) return schwebe::app::token_create(*config, token_name, json);
    if (token_list->parsed()) return schwebe::app::token_list(*config, json);
    if (token_revoke->parsed()) return schwebe::app::token_revoke(*config, token_id_or_name);
    if (codec_run->parsed()) return schwebe::app::codec_run(*config, codec_args);
    if (codec_list->parsed()) return schwebe::app::codec_list(json);
    if (replay->parsed()) return schwebe::app::replay_command(*config, replay_args);
    if (sim->parsed()) return schwebe::app::sim_command(*config, sim_args);
    if (serve->parsed()) return schwebe::app::serve(*config, components);
    return 1;
}
