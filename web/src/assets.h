// The application's static files (web/assets/), compiled into the binary
// (embed_assets.cmake), so that nothing is loaded from anywhere else.
#pragma once

#include <string_view>

#include "preserve/service/http_message.h"

namespace preserve::web {

struct Asset {
  std::string_view path;          // "/static/app.css"
  std::string_view content_type;  // "text/css; charset=utf-8"
  std::string_view body;
};

// The embedded files (generated: assets_data.cc).
extern const Asset kAssets[];
extern const std::size_t kAssetCount;

// The file at `path`, cacheable for a day; 404 when there is none.
service::HttpResponse ServeAsset(std::string_view path);

}  // namespace preserve::web
