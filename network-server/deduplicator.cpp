#include "network-server/deduplicator.hpp"

#include "common/uuid.hpp"

namespace schwebe::ns {

std::size_t Deduplicator::KeyHash::operator()(const Key& k) const noexcept {
    // FNV-1a over payload, frequency and modulation: cheap, and the payload (with its MIC) already differs between
    // any two real frames.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](std::uint64_t v) {
        h ^= v;
        h *= 1099511628211ULL;
    };
    for (const std::uint8_t b : k.phy_payload) mix(b);
    mix(k.frequency_hz);
    mix(k.modulation.index());
    if (const auto* lora = std::get_if<common::LoraModulation>(&k.modulation)) {
        mix(lora->spreading_factor);
        mix(lora->bandwidth_hz);
    } else {
        mix(std::get<common::FskModulation>(k.modulation).bit_rate);
    }
    return static_cast<std::size_t>(h);
}

Deduplicator::Deduplicator(Options options, std::uint64_t id_seed) : options_(options), rng_(id_seed) {}

Deduplicator::Outcome Deduplicator::add(common::UplinkFrame frame, SteadyTime now) {
    expire_recent(now);
    Key key{frame.phy_payload, frame.tx_info.frequency_hz, frame.tx_info.modulation};
    if (auto it = open_.find(key); it != open_.end()) {
        it->second.set.rx_infos.push_back(std::move(frame.rx_info));
        return Outcome::copy_added;
    }
    if (recent_.contains(key)) return Outcome::late_copy;
    if (open_.size() >= options_.max_pending) return Outcome::overloaded;

    Open open;
    open.deadline = now + options_.window;
    open.set.deduplication_id = new_id();
    open.set.phy_payload = std::move(frame.phy_payload);
    open.set.tx_info = std::move(frame.tx_info);
    open.set.rx_infos.push_back(std::move(frame.rx_info));
    open_order_.push_back(key);
    open_.emplace(std::move(key), std::move(open));
    return Outcome::first_copy;
}

std::vector<UplinkFrameSet> Deduplicator::take_ready(SteadyTime now) {
    std::vector<UplinkFrameSet> ready;
    while (!open_order_.empty()) {
        auto it = open_.find(open_order_.front());
        if (it->second.deadline > now) break;
        ready.push_back(std::move(it->second.set));
        const SteadyTime cooldown_end = now + options_.cooldown;
        recent_.insert_or_assign(open_order_.front(), cooldown_end);
        recent_order_.emplace_back(std::move(open_order_.front()), cooldown_end);
        open_.erase(it);
        open_order_.pop_front();
    }
    return ready;
}

std::optional<Deduplicator::SteadyTime> Deduplicator::next_deadline() const {
    if (open_order_.empty()) return std::nullopt;
    return open_.find(open_order_.front())->second.deadline;
}

void Deduplicator::expire_recent(SteadyTime now) {
    while (!recent_order_.empty() && recent_order_.front().second <= now) {
        const auto it = recent_.find(recent_order_.front().first);
        // A key processed again later has a newer cooldown end: only the entry that matches is removed.
        if (it != recent_.end() && it->second == recent_order_.front().second) recent_.erase(it);
        recent_order_.pop_front();
    }
}

std::string Deduplicator::new_id() { return common::uuid_v4(rng_); }

}  // namespace schwebe::ns
