#include "assets.h"

namespace preserve::web {

service::HttpResponse ServeAsset(std::string_view path) {
  service::HttpResponse r;
  for (std::size_t i = 0; i < kAssets_count; ++i) {
    if (kAssets[i].path != path) continue;
    r.content_type = std::string(kAssets[i].content_type);
    r.body = std::string(kAssets[i].body);
    // The files change only with the binary; a day is short enough for an upgrade.
    r.headers.emplace_back("Cache-Control", "public, max-age=86400");
    return r;
  }
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "no such file\n";
  return r;
}

}  // namespace preserve::web
