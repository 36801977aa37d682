#pragma once
// The dashboard's files (dashboards/web/) and the OpenAPI document (dashboards/openapi.json), embedded into the
// binary at build time (embed_assets.cmake): Schwebe serves them with no file beside it and no internet.

#include <span>
#include <string_view>

namespace schwebe::dashboards {

struct Asset {
    std::string_view name;          ///< file name, e.g. "index.html"
    std::string_view content_type;  ///< from the extension
    std::string_view body;
};

[[nodiscard]] std::span<const Asset> web_assets();
[[nodiscard]] std::string_view openapi_document();

}  // namespace schwebe::dashboards
