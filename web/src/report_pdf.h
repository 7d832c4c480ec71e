// The verification report as a PDF (/report/ID.pdf): A4 pages, paged when
// long, drawn with pango and cairo in DejaVu Sans, so that Vietnamese reads
// with its diacritics and the text can be searched and copied.
#pragma once

#include <string>

#include "page.h"
#include "preserve/util/status.h"
#include "report_view.h"

namespace preserve::web {

// The PDF's bytes; kInternal when cairo cannot make it (out of memory).
Result<std::string> ReportPdf(const Page& page, const ReportView& view);

}  // namespace preserve::web
