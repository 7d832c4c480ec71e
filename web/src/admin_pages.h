// What the administrator's pages share (admin_pages.cc, account_pages.cc,
// package_admin.cc): their routes and small helpers. Their markup is in
// web/templates (dashboard_*, policy_*, accounts_*, admin_*), their texts
// under the dashboard.*, policy.*, accounts.* and admin.* catalogue keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "page.h"

namespace preserve::web {

void AddAccountPages(Routes& routes);       // /accounts, /accounts/<name>, their forms
void AddPackageAdminPages(Routes& routes);  // /admin/package/<id> and its forms

// The length a person counts: code points of UTF-8 text (what
// Accounts::SetPassword measures a password by).
std::size_t CodePoints(std::string_view text);

// The parts of a path after `prefix`, split at '/': "/accounts/ann/disable"
// with "/accounts/" gives {"ann", "disable"}. Empty parts are kept (and
// refused by the pages as unknown).
std::vector<std::string> PathParts(std::string_view path, std::string_view prefix);

}  // namespace preserve::web
