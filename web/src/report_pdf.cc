#include "report_pdf.h"

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include <functional>
#include <memory>
#include <string_view>

#include "view.h"
#include "words.h"

namespace preserve::web {

namespace {

// Every cairo, pango and glib handle is owned by one of these, released on
// the line that ends its scope.
template <auto Release>
struct Releaser {
  template <typename T>
  void operator()(T* p) const {
    Release(p);
  }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, Releaser<cairo_surface_destroy>>;
using CairoPtr = std::unique_ptr<cairo_t, Releaser<cairo_destroy>>;
using LayoutPtr = std::unique_ptr<PangoLayout, Releaser<g_object_unref>>;
using FontPtr = std::unique_ptr<PangoFontDescription, Releaser<pango_font_description_free>>;
using GStringPtr = std::unique_ptr<gchar, Releaser<g_free>>;

// A4 in points, and its margins.
constexpr double kWidth = 595.28, kHeight = 841.89, kMargin = 56.0;
constexpr double kFooter = 28.0;  // below the text: the page number

struct Colour {
  double r, g, b;
};
constexpr Colour kInk{0.1, 0.1, 0.12}, kMuted{0.35, 0.37, 0.4};

Colour VerdictColour(Verdict v) {
  switch (v) {
    case Verdict::kValid: return {0.106, 0.478, 0.227};
    case Verdict::kInvalid: return {0.702, 0.149, 0.118};
    case Verdict::kIndeterminate: return {0.698, 0.416, 0.0};
  }
  return kInk;
}

std::string Hex(Colour c) {
  char out[8];
  std::snprintf(out, sizeof out, "#%02x%02x%02x", static_cast<unsigned>(c.r * 255), static_cast<unsigned>(c.g * 255),
                static_cast<unsigned>(c.b * 255));
  return out;
}

// Text for pango markup: & < > escaped.
std::string Markup(std::string_view text) {
  GStringPtr escaped(g_markup_escape_text(text.data(), static_cast<gssize>(text.size())));
  return escaped ? std::string(escaped.get()) : std::string();
}

// Writes blocks of text down A4 pages, starting a new page when the next
// block does not fit on this one.
class PdfWriter {
 public:
  // `page_number` gives the footer's text for a page number ("Trang 2").
  PdfWriter(cairo_t* cr, std::function<std::string(int)> page_number)
      : cr_(cr), page_number_(std::move(page_number)) {}

  // `markup` in DejaVu Sans at `size` points; `indent` from the left margin.
  void Block(const std::string& markup, double size, bool bold, Colour colour, double indent = 0,
             double space_after = 6) {
    LayoutPtr layout(pango_cairo_create_layout(cr_));
    FontPtr font(pango_font_description_from_string("DejaVu Sans"));
    pango_font_description_set_absolute_size(font.get(), size * PANGO_SCALE);
    pango_font_description_set_weight(font.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout.get(), font.get());
    pango_layout_set_width(layout.get(), static_cast<int>((kWidth - 2 * kMargin - indent) * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_markup(layout.get(), markup.c_str(), -1);
    int width = 0, height = 0;
    pango_layout_get_pixel_size(layout.get(), &width, &height);
    if (y_ + height > kHeight - kMargin - kFooter && y_ > kMargin) NewPage();
    cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
    cairo_move_to(cr_, kMargin + indent, y_);
    pango_cairo_show_layout(cr_, layout.get());
    y_ += height + space_after;
  }

  void Space(double points) { y_ += points; }

  // The last page's number, then the document ends.
  void Finish() { Footer(); }

 private:
  void NewPage() {
    Footer();
    cairo_show_page(cr_);
    ++page_;
    y_ = kMargin;
  }

  void Footer() {
    LayoutPtr layout(pango_cairo_create_layout(cr_));
    FontPtr font(pango_font_description_from_string("DejaVu Sans 8"));
    pango_layout_set_font_description(layout.get(), font.get());
    const std::string text = page_number_(page_);
    pango_layout_set_text(layout.get(), text.c_str(), -1);
    cairo_set_source_rgb(cr_, kMuted.r, kMuted.g, kMuted.b);
    cairo_move_to(cr_, kMargin, kHeight - kMargin + 8);
    pango_cairo_show_layout(cr_, layout.get());
  }

  cairo_t* cr_;
  std::function<std::string(int)> page_number_;
  int page_ = 1;
  double y_ = kMargin;
};

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void Draw(const Page& page, const ReportView& view, PdfWriter& out) {
  out.Block(Markup(view.heading), 17, true, kInk, 0, 4);
  out.Block(Markup(view.subject), 9, false, kMuted, 0, 12);
  const Colour verdict = VerdictColour(view.verdict);
  out.Block(Markup(page.Text("report.result") + ": ") + "<span foreground=\"" + Hex(verdict) + "\">" +
                Markup(view.verdict_label) + "</span>",
            14, true, kInk, 0, 4);
  out.Block(Markup(view.verdict_meaning), 10, false, kInk);
  if (!view.existence.empty()) out.Block(Markup(view.existence + "."), 10, false, kInk);
  out.Block(Markup(page.Text("report.pdf_checked_on", {{"time", view.checked_at}})), 9, false, kMuted, 0, 10);
  for (const auto& [section, checks] : view.sections) {
    out.Space(6);
    out.Block(Markup(section), 12.5, true, kInk, 0, 6);
    int n = 0;
    for (const ReportCheck& check : checks) {
      out.Block(std::to_string(++n) + ". <span foreground=\"" + Hex(VerdictColour(check.verdict)) +
                    "\" weight=\"bold\">" + Markup(VerdictLabel(page, check.verdict)) + "</span>  " +
                    Markup(check.title),
                10, false, kInk, 8, 1);
      out.Block(Markup(check.technical), 8, false, kMuted, 22, 6);
    }
  }
  out.Finish();
}

}  // namespace

Result<std::string> ReportPdf(const Page& page, const ReportView& view) {
  std::string pdf;
  {
    SurfacePtr surface(cairo_pdf_surface_create_for_stream(Append, &pdf, kWidth, kHeight));
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      return Status::Internal(std::string("cairo: ") + cairo_status_to_string(cairo_surface_status(surface.get())));
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE,
                                   (view.heading + " " + view.subject).c_str());
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "preserve");
    CairoPtr cr(cairo_create(surface.get()));
    PdfWriter writer(cr.get(), [&page](int n) { return page.Text("report.pdf_page", {{"n", std::to_string(n)}}); });
    Draw(page, view, writer);
    cairo_surface_finish(surface.get());  // writes the rest of the file through Append
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS)
      return Status::Internal(std::string("cairo: ") + cairo_status_to_string(cairo_status(cr.get())));
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS)
      return Status::Internal(std::string("cairo: ") + cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  return pdf;
}

}  // namespace preserve::web
