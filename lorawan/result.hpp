#pragma once
/// Values instead of exceptions: every parser and check of the protocol core returns a Result, whose error names
/// one reject reason (one status code per reason, as LoRaMac-node does) and says in a few words what was wrong.

#include <cassert>
#include <string_view>
#include <utility>
#include <variant>

namespace schwebe::lorawan {

/// Why a frame, field or command was refused. The names of the uplink path are those of the shared frame vectors.
enum class Reject {
    malformed,                          ///< too short, a length field that does not fit, a field out of range
    mic_mismatch,                       ///< MIC does not verify under the session (or AppKey) and counter tried
    unsupported_major_version,          ///< MHDR Major other than LoRaWAN R1
    fport0_with_fopts,                  ///< FPort 0 (MAC commands in FRMPayload) while FOpts is not empty
    proprietary_mtype_not_supported,    ///< MType 7: recognised, not processed
    downlink_mtype_received_on_uplink,  ///< a data-down or join-accept frame arrived where an uplink was expected
    uplink_mtype_received_on_downlink,  ///< the converse, for a device-side decoder
    fcnt_duplicate,                     ///< the reconstructed counter equals the last accepted one
    fcnt_exhausted,                     ///< the 32-bit counter cannot advance any further; the device must rejoin
    unknown_mac_command,                ///< a CID this implementation does not know: the rest cannot be parsed
    field_out_of_range,                 ///< a value that does not fit its field when serializing
};

[[nodiscard]] std::string_view to_string(Reject r) noexcept;

struct Error {
    Reject reason;
    std::string_view detail;  ///< a static text: errors never allocate
};

/// A value or the reason there is none. `E` is Error for the protocol core; other layers bring their own error
/// type (it must not be convertible from T).
template <class T, class E = Error>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor): returned as a plain value
    Result(E e) : v_(std::move(e)) {}          // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    [[nodiscard]] T& value() & {
        assert(ok());
        return std::get<0>(v_);
    }
    [[nodiscard]] const T& value() const& {
        assert(ok());
        return std::get<0>(v_);
    }
    [[nodiscard]] T&& value() && {
        assert(ok());
        return std::get<0>(std::move(v_));
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    [[nodiscard]] const E& error() const {
        assert(!ok());
        return std::get<1>(v_);
    }

private:
    std::variant<T, E> v_;
};

/// For checks that produce no value.
struct Ok {};

}  // namespace schwebe::lorawan
