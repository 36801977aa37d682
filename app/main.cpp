// The `schwebe` binary: the one place that builds concrete objects and wires them (DESIGN.md, Layout).

#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <string>

#include "app/frame_json.hpp"

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

    CLI::App* frame = app.add_subcommand("frame", "Decode or build a LoRaWAN frame (JSON on stdin, JSON on stdout)");
    frame->require_subcommand(1);
    bool pretty = false;
    CLI::App* decode = frame->add_subcommand(
        "decode",
        "Decode a PHYPayload: {\"phy_payload\":hex, \"nwk_s_key\", \"app_s_key\", \"app_key\", \"dev_nonce\", "
        "\"last_f_cnt_up\", \"last_f_cnt_down\", \"f_cnt_mode\"} (keys as needed). Exit 0 valid, 1 refused "
        "(\"error\" names the reason), 2 invalid input");
    decode->add_flag("--pretty", pretty, "Indent the output");
    CLI::App* encode = frame->add_subcommand(
        "encode",
        "Build a frame from the decode vocabulary (m_type, dev_addr, f_cnt, f_ctrl, f_opts or "
        "mac_commands, f_port, frm_payload, keys; join fields for joins). Exit 0 built, 2 invalid input");
    encode->add_flag("--pretty", pretty, "Indent the output");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (decode->parsed()) return run_json_tool(schwebe::app::decode_frame, pretty);
    if (encode->parsed()) return run_json_tool(schwebe::app::encode_frame, pretty);
    return 1;
}
