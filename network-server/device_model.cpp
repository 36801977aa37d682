#include "network-server/device_model.hpp"

namespace schwebe::ns {

std::string_view to_string(Activation a) noexcept {
    switch (a) {
        case Activation::otaa: return "otaa";
        case Activation::abp: return "abp";
    }
    return "unknown";
}

std::optional<Activation> activation_from_string(std::string_view s) noexcept {
    if (s == "otaa") return Activation::otaa;
    if (s == "abp") return Activation::abp;
    return std::nullopt;
}

std::string_view to_string(MacVersion v) noexcept {
    switch (v) {
        case MacVersion::v1_0_2: return "1.0.2";
        case MacVersion::v1_0_3: return "1.0.3";
        case MacVersion::v1_0_4: return "1.0.4";
    }
    return "unknown";
}

std::optional<MacVersion> mac_version_from_string(std::string_view s) noexcept {
    if (s == "1.0.2") return MacVersion::v1_0_2;
    if (s == "1.0.3") return MacVersion::v1_0_3;
    if (s == "1.0.4") return MacVersion::v1_0_4;
    return std::nullopt;
}

std::string_view to_string(lorawan::FCntMode m) noexcept {
    switch (m) {
        case lorawan::FCntMode::strict: return "strict";
        case lorawan::FCntMode::relaxed: return "relaxed";
    }
    return "unknown";
}

std::optional<lorawan::FCntMode> f_cnt_mode_from_string(std::string_view s) noexcept {
    if (s == "strict") return lorawan::FCntMode::strict;
    if (s == "relaxed") return lorawan::FCntMode::relaxed;
    return std::nullopt;
}

}  // namespace schwebe::ns
