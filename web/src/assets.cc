#include "assets.h"

namespace preserve::web {

service::HttpResponse ServeAsset(std::string_view path, std::string_view version) {
  service::HttpResponse r;
  for (std::size_t i = 0; i < kAssets_count; ++i) {
    if (kAssets[i].path != path) continue;
    r.content_type = std::string(kAssets[i].content_type);
    r.body = std::string(kAssets[i].body);
    // A versioned name never holds other bytes; an unversioned one may, after an upgrade.
    r.headers.emplace_back("Cache-Control",
                           version == kAssets_version ? "public, max-age=31536000, immutable" : "no-cache");
    return r;
  }
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "no such file\n";
  return r;
}

}  // namespace preserve::web
