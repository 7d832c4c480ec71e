// The application's cookies: their names and how they are set.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace preserve::web {

// The language chosen with the switch ("vi" or "en"); not a secret.
inline constexpr std::string_view kLangCookie = "preserve_lang";
// The sign-in form's own CSRF token (double submit: the cookie and the form
// field must agree), before there is a session to carry one.
inline constexpr std::string_view kSignInCookie = "preserve_signin";

// The session cookie: over TLS the __Host- prefix makes browsers keep it
// Secure, for this host only, for the whole site (RFC 6265bis 4.1.3.2).
inline std::string SessionCookieName(bool tls) { return tls ? "__Host-preserve_session" : "preserve_session"; }

// A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure over TLS;
// `max_age` 0 deletes the cookie, a negative one makes a session cookie.
inline std::string SetCookie(std::string_view name, std::string_view value, bool tls,
                             std::chrono::seconds max_age = std::chrono::seconds(-1)) {
  std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Strict";
  if (tls) c += "; Secure";
  if (max_age.count() >= 0) c += "; Max-Age=" + std::to_string(max_age.count());
  return c;
}

}  // namespace preserve::web
