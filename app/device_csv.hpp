#pragma once
// Bulk onboarding: devices as CSV (README, Device CSV). `schwebe device import FILE` and `schwebe device export`.
//
// The format: RFC 4180 (commas, "quoted" fields with "" inside, CRLF or LF, an optional UTF-8 BOM), a header row
// naming the columns in any order:
//   dev_eui, name, profile                      required
//   application                                 default "default", created when no application has that name
//   join_eui, app_key                           OTAA
//   dev_addr, nwk_s_key, app_s_key              ABP
//   zone, spot                                  a parking sensor's place (device tags `zone` and `spot`)
//   latitude, longitude, altitude               degrees, degrees, metres
//   tags                                        more tags: key=value;key=value
// Every row is checked on its own; a bad row is reported with its line, column and reason (never with a key's
// value) and the good rows go in, or nothing with all_or_nothing. A row equal to the stored device changes nothing,
// so importing the same file twice is harmless.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "integrations/sqlite/database.hpp"
#include "integrations/sqlite/device_registry.hpp"

namespace schwebe::app {

/// RFC 4180 records; `lines` holds the line number (from 1) at which each record starts.
struct CsvTable {
    std::vector<std::vector<std::string>> records;
    std::vector<std::size_t> lines;
};
/// nullopt with `error` (and its line) set when the text is not CSV (an unterminated quote, text after a closing
/// quote).
std::optional<CsvTable> parse_csv(std::string_view text, std::string& error);
/// One field, quoted when it needs to be.
std::string csv_field(std::string_view value);

struct CsvRowError {
    std::size_t line = 0;
    std::string column;  ///< empty when the row as a whole is at fault
    std::string reason;
};

struct ImportResult {
    std::size_t rows = 0;
    std::size_t added = 0, updated = 0, unchanged = 0;
    std::vector<CsvRowError> errors;  ///< one per refused row, in file order
    std::size_t applications_created = 0;
    bool committed = false;  ///< false: nothing was written (all_or_nothing with errors, or a dry run)
    std::optional<std::string> fatal;  ///< the file as a whole is unusable (no header, a required column missing)

    [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct ImportOptions {
    bool all_or_nothing = false;
    bool dry_run = false;  ///< check every row, write nothing
};

/// Imports `csv` into the registry on `db`, in one transaction.
ImportResult import_devices_csv(sqlite::Database& db, sqlite::SqliteDeviceRegistry& registry, std::string_view csv,
                                const ImportOptions& options);

/// Every device (or those of one application) as CSV in the import format; keys only with `with_keys`.
std::string export_devices_csv(sqlite::SqliteDeviceRegistry& registry, const std::optional<std::string>& application_id,
                               bool with_keys);

}  // namespace schwebe::app
