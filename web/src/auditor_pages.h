// The auditor's pages, each part in its own file; auditor_pages.cc adds them all.
#pragma once

#include <optional>
#include <string>

#include "page.h"

namespace preserve::web {

void AddAuditTrailPage(Routes& routes);        // audit_trail_page.cc: /audit-trail
void AddSignatureReportPage(Routes& routes);   // signature_report_page.cc: /reports/signatures

// A date typed in a form ("05/12/2026" or "2026-12-05", as ParseDate reads
// it) as the start of that day in the application's offset from UTC, or with
// `day_after` the start of the next day (the end of a range that includes
// the day). Nothing for an empty text; kInvalidArgument for a bad date.
Result<std::optional<TimePoint>> ParseLocalDay(const Page& page, const std::string& text, bool day_after);

}  // namespace preserve::web
