// One HTTP request and its answer, as the service's transport
// (service/src/http_server.h) hands them to what answers them: the TS 119 512
// API (service/) and the web application (web/). Plain data, no behaviour
// beyond a header lookup, so that web/ can depend on it without the server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "preserve/util/bytes.h"

namespace preserve::service {

struct HttpRequest {
  std::string method;  // "POST"
  std::string target;  // "/pres/PreservePO?x=y", as sent
  // Header fields in the order received, names lower-cased; fields of one
  // name come together, in their order (the only order with a meaning,
  // RFC 9110 5.3), at the place of the first.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"
  bool tls = false;
  // DER of the client's certificate, when it sent one that verified against client_ca.
  std::optional<Bytes> client_certificate;

  // The first field of that (lower-case) name; nullptr when absent.
  const std::string* Header(std::string_view lower_case_name) const {
    for (const auto& [name, value] : headers)
      if (name == lower_case_name) return &value;
    return nullptr;
  }
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra fields, e.g. WWW-Authenticate. Not Content-Type (above), nor those
  // the server writes itself: Content-Length, Transfer-Encoding, Connection, Date.
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace preserve::service
