// `schwebe frame decode|encode` as a library: every vector frame decoded with its keys and state, builds checked
// against the vectors, refusals and invalid input reported with a reason.

#include "app/frame_json.hpp"

#include <map>

#include "test_support.hpp"

using schwebe::app::decode_frame;
using schwebe::app::encode_frame;
using schwebe::app::exit_code_of;
using Json = schwebe::app::Json;

namespace {
std::map<std::string, nlohmann::json> devices_by_id(const nlohmann::json& vectors) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& d : vectors["devices"]) out[d["id"]] = d;
    return out;
}

/// The decode input for a vector frame: its device's session keys and the state before it.
Json input_for(const nlohmann::json& frame, const std::map<std::string, nlohmann::json>& devices) {
    Json in{{"phy_payload", frame["phy_payload_hex"]}};
    if (frame["device"].is_null()) return in;
    const auto& d = devices.at(frame["device"]);
    const auto& session = d.contains("session_from_join") ? d["session_from_join"] : d;
    if (session.contains("NwkSKey")) {
        in["nwk_s_key"] = session["NwkSKey"];
        in["app_s_key"] = session["AppSKey"];
    }
    if (d.contains("AppKey")) in["app_key"] = d["AppKey"];
    const auto& before = frame["state_before"];
    if (before.contains("last_fcnt_up") && !before["last_fcnt_up"].is_null())
        in["last_f_cnt_up"] = before["last_fcnt_up"];
    return in;
}
}  // namespace

TEST_CASE("frame decode reports every vector frame as the vectors expect", "[unit][frame_tool]") {
    const auto vectors = schwebe::test::load_vectors("lorawan-frames.json");
    const auto devices = devices_by_id(vectors);
    for (const auto& frame : vectors["frames"]) {
        if (frame["id"] == "J-ACCEPT") continue;
        INFO(frame["id"].get<std::string>() << ": " << frame["description"].get<std::string>());
        const auto& expected = frame["expected"];
        const Json out = decode_frame(input_for(frame, devices));
        const std::string reason = expected.value("reason", "");

        // Refusals that need a device registry (unknown DevAddr/DevEUI, DevNonce memory) or the uplink gate are
        // not the frame tool's to make: it decodes those frames.
        const bool tool_refuses = expected["outcome"] == "reject" && reason != "unknown_devaddr" &&
                                  reason != "unknown_deveui" && reason != "devnonce_reused" &&
                                  reason != "proprietary_mtype_not_supported" &&
                                  reason != "downlink_mtype_received_on_uplink";
        if (tool_refuses) {
            CHECK(out["error"] == reason);
            CHECK(exit_code_of(out) == 1);
            if (expected.contains("tried_fcnt32")) CHECK(out["f_cnt"] == expected["tried_fcnt32"]);
            continue;
        }
        CHECK_FALSE(out.contains("error"));
        CHECK(exit_code_of(out) == 0);
        if (out["m_type"] == "join_request") {
            CHECK(out["dev_eui"] == frame["fields"]["DevEUI"]);
            CHECK(out["join_eui"] == frame["fields"]["JoinEUI"]);
            CHECK(out["dev_nonce"] == frame["fields"]["DevNonce"]);
            if (!frame["device"].is_null()) CHECK(out["mic_valid"] == true);
            continue;
        }
        if (expected["outcome"] != "accept") continue;
        CHECK(out["mic_valid"] == true);
        CHECK(out["f_cnt"] == expected["fcnt32"]);
        CHECK(out["f_ctrl"]["adr"] == expected["adr"]);
        CHECK(out["f_ctrl"]["adr_ack_req"] == expected["adr_ack_req"]);
        CHECK((out["m_type"] == "confirmed_data_up") == expected["confirmed"].get<bool>());
        if (!expected["application"].is_null()) {
            CHECK(out["f_port"] == expected["application"]["fPort"]);
            CHECK(out["frm_payload"] == expected["application"]["payload_hex"]);
        }
        const auto want_mac = expected.value("mac_commands", nlohmann::json::array());
        REQUIRE(out["mac_commands"].size() == want_mac.size());
        for (std::size_t i = 0; i < want_mac.size(); ++i) CHECK(out["mac_commands"][i]["cid"] == want_mac[i]["name"]);
    }
}

TEST_CASE("frame decode shows MAC command fields", "[unit][frame_tool]") {
    const Json out = decode_frame(Json{{"phy_payload", "4001100b26000400005e41463ca0fd5affd61acc"},
                                       {"nwk_s_key", "f46614d5caa4d7dcaa4bcce31210127d"},
                                       {"app_s_key", "02fcbf1521523bd0a9654e1eaaacd84e"},
                                       {"last_f_cnt_up", 3}});  // F09
    REQUIRE(out["mac_commands"].size() == 3U);
    CHECK(out["mac_commands"][0] == Json{{"cid", "DevStatusAns"}, {"battery", 254}, {"margin", 20}});
    CHECK(out["mac_commands"][1] ==
          Json{{"cid", "LinkADRAns"}, {"channel_mask_ack", true}, {"data_rate_ack", true}, {"power_ack", true}});
    CHECK(out["frm_payload"] == "06fe1403070307");
}

TEST_CASE("frame decode of the join-accept vector gives its fields and session keys", "[unit][frame_tool]") {
    const Json out =
        decode_frame(Json{{"phy_payload", "20ae5b1bca5b9ef3934bf726c0a6e1c02aefe6a7740127473a15d63ff9d8ef5223"},
                          {"app_key", "91bd6f4b9ada201a552cee1676ff94b2"},
                          {"dev_nonce", "0001"}});
    CHECK(out["m_type"] == "join_accept");
    CHECK(out["join_nonce"] == "000001");
    CHECK(out["net_id"] == "000013");
    CHECK(out["dev_addr"] == "26000101");
    CHECK(out["dl_settings"] == Json{{"rx1_dr_offset", 0}, {"rx2_dr", 3}});
    CHECK(out["rx_delay"] == 1);
    CHECK(out["cf_list"]["frequencies"] == Json{867100000, 867300000, 867500000, 867700000, 867900000});
    CHECK(out["mic_valid"] == true);
    CHECK(out["nwk_s_key"] == "d968797257a40e499a071b58da7f7703");
    CHECK(out["app_s_key"] == "e7d6778b63d5f663fb340890e8b4ea9e");

    const Json wrong =
        decode_frame(Json{{"phy_payload", "20ae5b1bca5b9ef3934bf726c0a6e1c02aefe6a7740127473a15d63ff9d8ef5223"},
                          {"app_key", "91bd6f4b9ada201a552cee1676ff94b3"}});
    CHECK(wrong["error"] == "mic_mismatch");
    CHECK(exit_code_of(wrong) == 1);
}

TEST_CASE("frame decode of a downlink uses the downlink counter", "[unit][frame_tool]") {
    const Json out = decode_frame(Json{{"phy_payload", "6003100b2600701102037f6b1a21"},  // DL5: FCntDown 70000
                                       {"nwk_s_key", "f994c30232b7f72421861c921d907a6d"},
                                       {"app_s_key", "7e66b5d7755017ebcbe64cd1ef8c3583"},
                                       {"last_f_cnt_down", 69999}});
    CHECK(out["m_type"] == "unconfirmed_data_down");
    CHECK(out["f_cnt"] == 70000);
    CHECK(out["f_cnt_16"] == 0x1170);
    CHECK(out["mic_valid"] == true);
    CHECK(out["frm_payload"] == "01");
}

TEST_CASE("frame decode without keys shows the structure and the encrypted payload", "[unit][frame_tool]") {
    const Json out = decode_frame(Json{{"phy_payload", "4001100b2600000001e3571634ab"}});
    CHECK(out["dev_addr"] == "260b1001");
    CHECK(out["f_cnt"] == 0);
    CHECK(out["frm_payload_encrypted"] == "e3");
    CHECK_FALSE(out.contains("mic_valid"));
    CHECK(exit_code_of(out) == 0);
}

TEST_CASE("frame encode builds the downlink vectors", "[unit][frame_tool]") {
    const Json ack = encode_frame(Json{{"m_type", "unconfirmed_data_down"},
                                       {"dev_addr", "260b1001"},
                                       {"f_cnt", 0},
                                       {"f_ctrl", {{"ack", true}}},
                                       {"nwk_s_key", "f46614d5caa4d7dcaa4bcce31210127d"}});
    CHECK(ack == Json{{"phy_payload", "6001100b26200000609efff7"}});  // DL1

    const Json mac =
        encode_frame(Json{{"m_type", "unconfirmed_data_down"},
                          {"dev_addr", "260b1001"},
                          {"f_cnt", 1},
                          {"mac_commands", Json::array({{{"cid", "LinkCheckAns"}, {"margin", 10}, {"gw_cnt", 3}},
                                                        {{"cid", "DeviceTimeAns"}, {"seconds", 0x527CDC80}}})},
                          {"nwk_s_key", "f46614d5caa4d7dcaa4bcce31210127d"}});
    CHECK(mac["phy_payload"] == "6001100b26090100020a030d80dc7c5200896e0860");  // DL2

    const Json port0 = encode_frame(Json{
        {"m_type", "unconfirmed_data_down"},
        {"dev_addr", "260b1001"},
        {"f_cnt", 3},
        {"f_port", 0},
        {"mac_commands",
         Json::array({{{"cid", "LinkADRReq"}, {"data_rate", 5}, {"tx_power", 2}, {"ch_mask", 255}, {"nb_trans", 1}},
                      {{"cid", "DevStatusReq"}}})},
        {"nwk_s_key", "f46614d5caa4d7dcaa4bcce31210127d"}});
    CHECK(port0["phy_payload"] == "6001100b26000300000346259ddbbfa3324594");  // DL4

    const Json confirmed = encode_frame(Json{{"m_type", "confirmed_data_down"},
                                             {"dev_addr", "260b1001"},
                                             {"f_cnt", 2},
                                             {"f_port", 10},
                                             {"frm_payload", "0a01ff"},
                                             {"nwk_s_key", "f46614d5caa4d7dcaa4bcce31210127d"},
                                             {"app_s_key", "02fcbf1521523bd0a9654e1eaaacd84e"}});
    CHECK(confirmed["phy_payload"] == "a001100b260002000a7c19eb69fe1e4b");  // DL3
}

TEST_CASE("frame encode builds joins the vectors contain", "[unit][frame_tool]") {
    const Json jr = encode_frame(Json{{"m_type", "join_request"},
                                      {"join_eui", "70b3d5499cffff01"},
                                      {"dev_eui", "70b3d5499c000001"},
                                      {"dev_nonce", "0002"},
                                      {"app_key", "91bd6f4b9ada201a552cee1676ff94b2"}});
    CHECK(jr["phy_payload"] == "0001ffff9c49d5b3700100009c49d5b37002004100f043");  // F37

    const Json ja =
        encode_frame(Json{{"m_type", "join_accept"},
                          {"join_nonce", "000001"},
                          {"net_id", "000013"},
                          {"dev_addr", "26000101"},
                          {"dl_settings", {{"rx1_dr_offset", 0}, {"rx2_dr", 3}}},
                          {"rx_delay", 1},
                          {"cf_list", {{"frequencies", {867100000, 867300000, 867500000, 867700000, 867900000}}}},
                          {"app_key", "91bd6f4b9ada201a552cee1676ff94b2"},
                          {"dev_nonce", 1}});
    CHECK(ja["phy_payload"] == "20ae5b1bca5b9ef3934bf726c0a6e1c02aefe6a7740127473a15d63ff9d8ef5223");
    CHECK(ja["nwk_s_key"] == "d968797257a40e499a071b58da7f7703");
    CHECK(ja["app_s_key"] == "e7d6778b63d5f663fb340890e8b4ea9e");
}

TEST_CASE("encode then decode round-trips every MAC command", "[unit][frame_tool]") {
    const Json down = Json::array(
        {{{"cid", "LinkCheckAns"}, {"margin", 7}, {"gw_cnt", 2}},
         {{"cid", "LinkADRReq"},
          {"data_rate", 3},
          {"tx_power", 1},
          {"ch_mask", 7},
          {"ch_mask_cntl", 6},
          {"nb_trans", 2}},
         {{"cid", "DutyCycleReq"}, {"max_duty_cycle", 4}},
         {{"cid", "RXParamSetupReq"}, {"rx1_dr_offset", 1}, {"rx2_data_rate", 3}, {"frequency", 869525000}},
         {{"cid", "DevStatusReq"}},
         {{"cid", "NewChannelReq"}, {"ch_index", 3}, {"frequency", 867100000}, {"min_dr", 0}, {"max_dr", 5}},
         {{"cid", "RXTimingSetupReq"}, {"delay", 2}},
         {{"cid", "TxParamSetupReq"}, {"downlink_dwell_time", true}, {"uplink_dwell_time", false}, {"max_eirp", 5}},
         {{"cid", "DlChannelReq"}, {"ch_index", 3}, {"frequency", 868100000}},
         {{"cid", "DeviceTimeAns"}, {"seconds", 1234567890}, {"fractional", 128}}});
    const Json built = encode_frame(Json{{"m_type", "unconfirmed_data_down"},
                                         {"dev_addr", "01020304"},
                                         {"f_cnt", 9},
                                         {"f_port", 0},
                                         {"mac_commands", down},
                                         {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}});
    REQUIRE_FALSE(built.contains("error"));
    const Json decoded = decode_frame(Json{{"phy_payload", built["phy_payload"]},
                                           {"last_f_cnt_down", 8},
                                           {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}});
    REQUIRE(decoded["mac_commands"].size() == down.size());
    for (std::size_t i = 0; i < down.size(); ++i) {
        for (const auto& [key, value] : down[i].items()) CHECK(decoded["mac_commands"][i][key] == value);
    }

    const Json up =
        Json::array({{{"cid", "LinkCheckReq"}},
                     {{"cid", "LinkADRAns"}, {"power_ack", true}, {"data_rate_ack", false}, {"channel_mask_ack", true}},
                     {{"cid", "DevStatusAns"}, {"battery", 0}, {"margin", -32}},
                     {{"cid", "RXTimingSetupAns"}},
                     {{"cid", "DeviceTimeReq"}}});
    const Json built_up = encode_frame(Json{{"m_type", "confirmed_data_up"},
                                            {"dev_addr", "01020304"},
                                            {"f_cnt", 70000},
                                            {"mac_commands", up},
                                            {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}});
    REQUIRE_FALSE(built_up.contains("error"));
    const Json decoded_up = decode_frame(Json{{"phy_payload", built_up["phy_payload"]},
                                              {"last_f_cnt_up", 69999},
                                              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}});
    CHECK(decoded_up["f_cnt"] == 70000);
    CHECK(decoded_up["m_type"] == "confirmed_data_up");
    CHECK(decoded_up["f_port"].is_null());
    REQUIRE(decoded_up["mac_commands"].size() == up.size());
    for (std::size_t i = 0; i < up.size(); ++i) {
        for (const auto& [key, value] : up[i].items()) CHECK(decoded_up["mac_commands"][i][key] == value);
    }
}

TEST_CASE("invalid input is reported with the field at fault", "[unit][frame_tool]") {
    struct Case {
        Json input;
        std::string mentions;
    };
    const std::vector<Case> cases = {
        {Json::array(), "object"},
        {Json::object(), "phy_payload"},
        {Json{{"phy_payload", "4g"}}, "phy_payload"},
        {Json{{"phy_payload", 12}}, "phy_payload"},
        {Json{{"phy_payload", "40"}, {"nwk_s_key", "0011"}}, "nwk_s_key"},
        {Json{{"phy_payload", "40"}, {"colour", "blue"}}, "colour"},
        {Json{{"phy_payload", "4001100b2600000001e3571634ab"}, {"last_f_cnt_up", -1}}, "last_f_cnt_up"},
        {Json{{"phy_payload", "4001100b2600000001e3571634ab"}, {"last_f_cnt_up", 4294967296}}, "last_f_cnt_up"},
        {Json{{"phy_payload", "4001100b2600000001e3571634ab"}, {"f_cnt_mode", "loose"}}, "f_cnt_mode"},
    };
    for (const Case& c : cases) {
        INFO(c.input.dump());
        const Json out = decode_frame(c.input);
        CHECK(out["error"] == "invalid_input");
        CHECK(out["detail"].get<std::string>().find(c.mentions) != std::string::npos);
        CHECK(exit_code_of(out) == 2);
    }

    const std::vector<Case> encode_cases = {
        {Json::object(), "m_type"},
        {Json{{"m_type", "rfu"}}, "m_type"},
        {Json{{"m_type", "unconfirmed_data_up"}, {"f_cnt", 1}, {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}},
         "dev_addr"},
        {Json{{"m_type", "unconfirmed_data_up"},
              {"dev_addr", "01020304"},
              {"f_cnt", 1},
              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"},
              {"f_opts", "00112233445566778899aabbccddeeff"}},
         "f_opts"},
        {Json{{"m_type", "unconfirmed_data_down"},
              {"dev_addr", "01020304"},
              {"f_cnt", 1},
              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"},
              {"mac_commands", Json::array({{{"cid", "LinkADRReq"}, {"data_rate", 16}}})}},
         "DataRate"},
        {Json{{"m_type", "unconfirmed_data_down"},
              {"dev_addr", "01020304"},
              {"f_cnt", 1},
              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"},
              {"mac_commands", Json::array({{{"cid", "LinkADRReq"}, {"speed", 1}}})}},
         "speed"},
        {Json{{"m_type", "unconfirmed_data_down"},
              {"dev_addr", "01020304"},
              {"f_cnt", 1},
              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"},
              {"mac_commands", Json::array({{{"cid", "Hello"}}})}},
         "Hello"},
        {Json{{"m_type", "unconfirmed_data_up"},
              {"dev_addr", "01020304"},
              {"f_cnt", 1},
              {"f_port", 2},
              {"frm_payload", "01"},
              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}},
         "app_s_key"},
        {Json{{"m_type", "unconfirmed_data_up"},
              {"dev_addr", "01020304"},
              {"f_cnt", 1},
              {"f_port", 0},
              {"f_opts", "02"},
              {"nwk_s_key", "000102030405060708090a0b0c0d0e0f"}},
         "f_port 0"},
        {Json{{"m_type", "join_request"}, {"join_eui", "0102"}}, "join_eui"},
        {Json{{"m_type", "join_accept"}, {"join_nonce", 16777216}}, "join_nonce"},
    };
    for (const Case& c : encode_cases) {
        INFO(c.input.dump());
        const Json out = encode_frame(c.input);
        CHECK(out["error"] == "invalid_input");
        CHECK(out["detail"].get<std::string>().find(c.mentions) != std::string::npos);
    }
}

TEST_CASE("frame decode refuses structurally broken frames with their reason", "[unit][frame_tool]") {
    CHECK(decode_frame(Json{{"phy_payload", ""}})["error"] == "malformed");
    CHECK(decode_frame(Json{{"phy_payload", "4002100b26000b0001e9"}})["error"] == "malformed");
    CHECK(decode_frame(Json{{"phy_payload", "4102100b26000b0001e9ba4b1a91d8aa1c838b0b42164d5928ac"}})["error"] ==
          "unsupported_major_version");
    CHECK(decode_frame(Json{{"phy_payload", "4001100b260105000200fecc3e58a7"}})["error"] == "fport0_with_fopts");
    const Json proprietary = decode_frame(Json{{"phy_payload", "e0aabb"}});
    CHECK(proprietary["m_type"] == "proprietary");
    CHECK(proprietary["payload"] == "aabb");
}
