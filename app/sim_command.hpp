#pragma once
// `schwebe sim`: the simulated city (sim/city_sim.hpp) against a server, with its provisioning, a progress bar, a
// summary and the ground truth.

#include <optional>
#include <string>

#include "common/config.hpp"

namespace schwebe::app {

struct SimArgs {
    std::optional<std::string> server;  ///< default: the configured bridge.udp_bind (0.0.0.0 as 127.0.0.1)
    std::size_t gateways = 6;
    std::size_t zones = 5;
    std::size_t spots = 40;
    std::size_t environment = 30;
    std::size_t meters = 20;
    double otaa_share = 0.5;
    double hours = 24;
    double speed = 60;
    std::uint64_t seed = 1;
    double loss = 0.02;
    double duplicate = 0.005;
    bool provision = false;              ///< add the profiles and devices to the configured store first
    std::optional<std::string> devices_csv;  ///< write the devices as `schwebe device import` reads them
    bool provision_only = false;         ///< provision / write the CSV, send nothing
    std::optional<std::string> truth;    ///< write the ground truth here
    bool plant = false;
    bool json = false;
    std::string progress = "auto";       ///< auto (a bar on a terminal), bar, lines, off
};

/// Exit 0 when every PUSH_DATA was acknowledged and every downlink landed in an RX window, 1 otherwise (the
/// summary says which), 2 invalid input.
int sim_command(const common::Config& config, const SimArgs& args);

}  // namespace schwebe::app
