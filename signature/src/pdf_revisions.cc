#include "pdf_revisions.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iterator>
#include <memory>
#include <qpdf/Buffer.hh>
#include <qpdf/BufferInputSource.hh>
#include <qpdf/QPDFAcroFormDocumentHelper.hh>
#include <qpdf/QPDFFormFieldObjectHelper.hh>
#include <qpdf/QPDFPageObjectHelper.hh>
#include <qpdf/QPDFTokenizer.hh>
#include <qpdf/QPDFXRefEntry.hh>
#include <string_view>
#include <system_error>
#include <utility>

namespace preserve::signature::pdf {

std::string ObjectName(QPDFObjGen og) { return og.unparse(' '); }

Result<std::unique_ptr<QPDF>> OpenPdf(ByteView bytes, const char* description) {
  try {
    auto pdf = std::make_unique<QPDF>();
    pdf->setSuppressWarnings(true);
    pdf->setAttemptRecovery(false);
    pdf->processMemoryFile(description, reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return pdf;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("not a readable PDF: ") + e.what());
  }
}

std::optional<SignedSpan> SpanOf(QPDFObjectHandle sig) {
  QPDFObjectHandle range = sig.getKey("/ByteRange");
  if (!range.isArray() || range.getArrayNItems() != 4) return std::nullopt;
  std::uint64_t r[4];
  for (int i = 0; i < 4; ++i) {
    QPDFObjectHandle n = range.getArrayItem(i);
    if (!n.isInteger() || n.getIntValue() < 0) return std::nullopt;
    r[i] = static_cast<std::uint64_t>(n.getIntValue());
  }
  if (r[0] != 0 || r[1] > r[2]) return std::nullopt;
  return SignedSpan{r[1], r[2], r[2] + r[3]};
}

std::string DocumentIndex::Describe(QPDFObjGen og) const {
  auto role = roles.find(og);
  return role == roles.end() ? "" : " (" + role->second + ")";
}

const SignatureFieldFacts* DocumentIndex::FieldAt(QPDFObjGen og) const {
  auto at = field_of.find(og);
  return at == field_of.end() ? nullptr : &fields[at->second];
}

std::string DocumentIndex::Label(QPDFObjGen og) const {
  std::string out = "object " + ObjectName(og);
  auto role = roles.find(og);
  if (role == roles.end()) return out;
  out += " (" + role->second;
  const SignatureFieldFacts* field = FieldAt(og);
  if (field != nullptr && !field->page.empty()) out += ", " + field->page;
  return out + ")";
}

namespace {

// PDF whitespace (ISO 32000-1 7.2.2).
bool IsPdfSpace(std::uint8_t c) { return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }

// Every indirect object reachable from `root`, not following the keys in `skip`.
void Reach(QPDFObjectHandle root, const std::set<std::string>& skip, std::set<QPDFObjGen>& seen) {
  std::vector<QPDFObjectHandle> todo{root};
  while (!todo.empty()) {
    QPDFObjectHandle h = todo.back();
    todo.pop_back();
    if (h.isIndirect() && !seen.insert(h.getObjGen()).second) continue;
    if (h.isArray()) {
      for (QPDFObjectHandle& item : h.getArrayAsVector()) todo.push_back(item);
    } else if (h.isDictionary() || h.isStream()) {
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      for (const std::string& key : dict.getKeys()) {
        if (skip.count(key) == 0) todo.push_back(dict.getKey(key));
      }
    }
  }
}

// What a signature field is made of: itself, its widgets, their appearances
// and what those use, its value. Not what it only points at: its page and
// parent (/P, /Parent), action targets (/A, /AA) and the document a DocMDP or
// FieldMDP reference names (/Reference, whose /Data may be the catalog).
void ReachFieldParts(QPDFObjectHandle field, std::set<QPDFObjGen>& seen) {
  Reach(field, {"/P", "/Parent", "/A", "/AA", "/Reference"}, seen);
}

// The text of an object, with indirect references as "n g R", streams with their raw data.
std::string Fingerprint(QPDFObjectHandle h) {
  if (h.isStream()) {
    std::shared_ptr<Buffer> data = h.getRawStreamData();
    return h.getDict().unparse() + "stream" +
           std::string(reinterpret_cast<const char*>(data->getBuffer()), data->getSize());
  }
  return h.isIndirect() ? h.unparseResolved() : h.unparse();
}

// Items (as "n g R" or direct text) of an array.
std::vector<std::string> Items(QPDFObjectHandle array) {
  std::vector<std::string> out;
  if (!array.isArray()) return out;
  for (QPDFObjectHandle& item : array.getArrayAsVector()) out.push_back(item.unparse());
  return out;
}

// Where the newest definition of each object begins in the file; for an
// object in an object stream, where that stream begins.
std::map<QPDFObjGen, std::uint64_t> DefinitionOffsets(QPDF& pdf) {
  std::map<QPDFObjGen, std::uint64_t> out;
  const std::map<QPDFObjGen, QPDFXRefEntry> table = pdf.getXRefTable();
  for (const auto& [og, entry] : table) {
    if (entry.getType() == 1) out.emplace(og, static_cast<std::uint64_t>(entry.getOffset()));
  }
  for (const auto& [og, entry] : table) {
    if (entry.getType() != 2) continue;
    auto stream = out.find(QPDFObjGen(entry.getObjStreamNumber(), 0));
    if (stream != out.end()) out.emplace(og, stream->second);
  }
  return out;
}

// The widgets of a terminal field: its /Kids, or the field itself when merged with its widget.
std::vector<QPDFObjectHandle> Widgets(QPDFObjectHandle field) {
  QPDFObjectHandle kids = field.getKey("/Kids");
  if (!kids.isArray()) return {field};
  std::vector<QPDFObjectHandle> out;
  for (QPDFObjectHandle& kid : kids.getArrayAsVector()) {
    if (kid.isDictionary()) out.push_back(kid);
  }
  return out;
}

// True when an appearance (a stream, or a dictionary of state streams) paints
// anything: a content stream with more than whitespace, or one that cannot be decoded.
bool Paints(QPDFObjectHandle appearance) {
  if (appearance.isStream()) {
    try {
      std::shared_ptr<Buffer> data = appearance.getStreamData(qpdf_dl_generalized);
      const unsigned char* bytes = data->getBuffer();
      return std::any_of(bytes, bytes + data->getSize(), [](unsigned char c) { return !IsPdfSpace(c); });
    } catch (const std::exception&) {
      return true;  // what cannot be read may show anything
    }
  }
  if (!appearance.isDictionary()) return false;
  for (const std::string& state : appearance.getKeys()) {
    if (Paints(appearance.getKey(state))) return true;
  }
  return false;
}

// What a viewer draws for widget `w` wherever it is: its normal, rollover or
// down appearance (ISO 32000 12.5.5), or, without one, the background or
// border colour some viewers draw from /MK. Empty when nothing.
std::string Drawn(QPDFObjectHandle w) {
  QPDFObjectHandle ap = w.getKey("/AP");
  if (ap.isDictionary()) {
    for (const char* key : {"/N", "/R", "/D"}) {
      if (Paints(ap.getKey(key))) return "a visible appearance";
    }
  }
  QPDFObjectHandle mk = w.getKey("/MK");
  if (mk.isDictionary()) {
    for (const char* key : {"/BG", "/BC"}) {
      QPDFObjectHandle colour = mk.getKey(key);
      if (colour.isArray() && colour.getArrayNItems() > 0) return "a background or border colour (/MK)";
    }
  }
  return "";
}

std::string Percent(double part, double whole) {
  const double percent = 100.0 * part / whole;
  if (percent > 0 && percent < 1) return "less than 1%";
  return std::to_string(static_cast<int>(percent + 0.5)) + "%";
}

// What a reader sees of widget `w` on page `page_number` ("" for none) whose
// visible area is `page_box`: "" when nothing, and then why in `invisible_because`.
std::string WhatShows(QPDFObjectHandle w, const std::string& page_number, QPDFObjectHandle page_box,
                      std::string& invisible_because) {
  if (page_number.empty()) {
    invisible_because = "on no page";
    return "";
  }
  QPDFObjectHandle f = w.getKey("/F");
  const long long flags = f.isInteger() ? f.getIntValue() : 0;
  // Hidden (bit 2) hides it; NoView (bit 6) too, unless ToggleNoView (bit 9)
  // shows it under the pointer (ISO 32000 12.5.3). Invisible (bit 1) does not
  // apply to a widget, a standard annotation type.
  if ((flags & 2) != 0 || ((flags & 32) != 0 && (flags & 256) == 0)) {
    invisible_because = "hidden by its flags, /F " + std::to_string(flags);
    return "";
  }
  QPDFObjectHandle rect = w.getKey("/Rect");
  if (!rect.isRectangle()) return "an unreadable /Rect on page " + page_number;
  const QPDFObjectHandle::Rectangle r = rect.getArrayAsRectangle();
  const double x1 = std::min(r.llx, r.urx), x2 = std::max(r.llx, r.urx);
  const double y1 = std::min(r.lly, r.ury), y2 = std::max(r.lly, r.ury);
  if (x2 - x1 <= 0 || y2 - y1 <= 0) {
    invisible_because = "a zero-size /Rect";
    return "";
  }
  const std::string drawn = Drawn(w);
  if (drawn.empty()) {
    invisible_because = "no appearance";
    return "";
  }
  const std::string where = "/Rect " + rect.unparse();
  if (!page_box.isRectangle()) return drawn + " on page " + page_number + " (" + where + ")";
  const QPDFObjectHandle::Rectangle b = page_box.getArrayAsRectangle();
  const double bx1 = std::min(b.llx, b.urx), bx2 = std::max(b.llx, b.urx);
  const double by1 = std::min(b.lly, b.ury), by2 = std::max(b.lly, b.ury);
  const double overlap =
      std::max(0.0, std::min(x2, bx2) - std::max(x1, bx1)) * std::max(0.0, std::min(y2, by2) - std::max(y1, by1));
  if (overlap <= 0) {
    invisible_because = "outside the visible area of page " + page_number;
    return "";
  }
  return drawn + " covering " + Percent(overlap, (bx2 - bx1) * (by2 - by1)) + " of page " + page_number + " (" + where +
         ")";
}

// Which part of `field` as it now is `value`, its signature dictionary, does
// not sign (SignatureFieldFacts::unsigned_part), or "".
std::string UnsignedPart(QPDFObjectHandle field, QPDFObjectHandle value, const DocumentIndex& index) {
  const std::string v = value.isIndirect() ? "its /V (object " + ObjectName(value.getObjGen()) + ")" : "its /V";
  std::optional<SignedSpan> span = SpanOf(value);
  if (!span) return v + " has no readable /ByteRange";
  const std::string signed_bytes =
      "the bytes " + v + " signs (0 to " + std::to_string(span->end) + ", its /Contents aside)";
  if (value.isIndirect()) {
    auto at = index.offsets.find(value.getObjGen());
    if (at != index.offsets.end() && at->second >= span->first_end) {
      return "its signature dictionary (object " + ObjectName(value.getObjGen()) + ") begins at byte " +
             std::to_string(at->second) + ", outside " + signed_bytes;
    }
  }
  std::set<QPDFObjGen> parts;
  if (field.isIndirect()) parts.insert(field.getObjGen());
  ReachFieldParts(field, parts);
  for (const QPDFObjGen& og : parts) {
    auto at = index.offsets.find(og);
    if (at == index.offsets.end() || span->Covers(at->second)) continue;
    return "object " + ObjectName(og) + index.Describe(og) + " begins at byte " + std::to_string(at->second) +
           ", outside " + signed_bytes;
  }
  return "";
}

}  // namespace

DocumentIndex IndexDocument(QPDF& pdf) {
  DocumentIndex index;
  index.offsets = DefinitionOffsets(pdf);
  std::map<std::string, QPDFObjectHandle> page_boxes;
  const std::vector<QPDFObjectHandle>& all_pages = pdf.getAllPages();
  for (std::size_t i = 0; i < all_pages.size(); ++i) {
    QPDFObjectHandle page = all_pages[i];
    const std::string number = std::to_string(i + 1);
    index.roles[page.getObjGen()] = "page " + number;
    index.page_numbers[page.getObjGen()] = number;
    page_boxes[number] = QPDFPageObjectHelper(page).getCropBox();
    QPDFObjectHandle contents = page.getKey("/Contents");
    std::vector<QPDFObjectHandle> streams =
        contents.isArray() ? contents.getArrayAsVector() : std::vector<QPDFObjectHandle>{contents};
    if (contents.isArray() && contents.isIndirect())
      index.roles[contents.getObjGen()] = "the content of page " + number;
    for (QPDFObjectHandle& s : streams) {
      if (s.isIndirect()) index.roles[s.getObjGen()] = "the content of page " + number;
    }
    QPDFObjectHandle annots = page.getKey("/Annots");
    if (annots.isIndirect()) index.annots_arrays[annots.getObjGen()] = number;
    if (annots.isArray()) {
      for (QPDFObjectHandle& annotation : annots.getArrayAsVector()) {
        if (annotation.isIndirect()) index.annotation_pages.emplace(annotation.getObjGen(), number);
      }
    }
  }
  QPDFObjectHandle root = pdf.getRoot();
  index.roles[root.getObjGen()] = "the document catalog";
  QPDFObjectHandle acroform = root.getKey("/AcroForm");
  if (acroform.isIndirect()) index.roles[acroform.getObjGen()] = "the AcroForm";

  // Every role first, so that UnsignedPart can name what it finds outside a signature.
  QPDFAcroFormDocumentHelper form(pdf);
  std::vector<QPDFFormFieldObjectHelper> signature_fields;
  for (QPDFFormFieldObjectHelper& field : form.getFormFields()) {
    if (field.getFieldType() != "/Sig") continue;
    signature_fields.push_back(field);
    QPDFObjectHandle h = field.getObjectHandle();
    const std::string name = field.getFullyQualifiedName();
    if (h.isIndirect()) index.roles.emplace(h.getObjGen(), "signature field " + name);
    for (QPDFObjectHandle& w : Widgets(h)) {
      if (w.isIndirect()) index.roles.emplace(w.getObjGen(), "a widget of signature field " + name);
      QPDFObjectHandle ap = w.getKey("/AP");
      if (!ap.isDictionary()) continue;
      for (const std::string& key : ap.getKeys()) {
        QPDFObjectHandle appearance = ap.getKey(key);
        if (appearance.isIndirect())
          index.roles.emplace(appearance.getObjGen(), "the appearance of signature field " + name);
      }
    }
    QPDFObjectHandle value = field.getValue();
    if (value.isIndirect()) {
      const bool timestamp = value.isDictionary() && value.getKey("/Type").isNameAndEquals("/DocTimeStamp");
      index.roles.emplace(value.getObjGen(),
                          (timestamp ? "the document time-stamp of " : "the signature value of ") + name);
    }
  }
  for (QPDFFormFieldObjectHelper& field : signature_fields) {
    QPDFObjectHandle h = field.getObjectHandle();
    SignatureFieldFacts facts;
    facts.name = field.getFullyQualifiedName();
    facts.object = h.getObjGen();
    QPDFObjectHandle value = field.getValue();
    if (value.isDictionary()) {
      facts.has_value = true;
      facts.value = value;
      facts.document_timestamp = value.getKey("/Type").isNameAndEquals("/DocTimeStamp") ||
                                 value.getKey("/SubFilter").isNameAndEquals("/ETSI.RFC3161");
      facts.unsigned_part = UnsignedPart(h, value, index);
    }
    facts.has_actions = h.hasKey("/A") || h.hasKey("/AA");
    for (QPDFObjectHandle& w : Widgets(h)) {
      facts.has_actions = facts.has_actions || w.hasKey("/A") || w.hasKey("/AA");
      auto page = w.isIndirect() ? index.annotation_pages.find(w.getObjGen()) : index.annotation_pages.end();
      const std::string number = page == index.annotation_pages.end() ? "" : page->second;
      if (facts.page.empty() && !number.empty()) facts.page = "page " + number;
      std::string invisible_because;
      std::string shows =
          WhatShows(w, number, number.empty() ? QPDFObjectHandle() : page_boxes[number], invisible_because);
      if (!shows.empty() && facts.visible.empty()) facts.visible = shows;
      if (shows.empty() && facts.invisible_because.empty()) facts.invisible_because = invisible_because;
    }
    const std::size_t at = index.fields.size();
    index.fields.push_back(std::move(facts));
    if (h.isIndirect()) index.field_of.emplace(h.getObjGen(), at);
    for (QPDFObjectHandle& w : Widgets(h)) {
      if (w.isIndirect()) index.field_of.emplace(w.getObjGen(), at);
    }
    std::set<QPDFObjGen> reached;
    ReachFieldParts(h, reached);
    for (const QPDFObjGen& og : reached) {
      index.brought.emplace(og, "part of signature field " + index.fields[at].name);
      index.brought_by_fields[og].push_back(at);
    }
  }
  QPDFObjectHandle dss = root.getKey("/DSS");
  if (!dss.isNull()) {
    std::set<QPDFObjGen> reached;
    Reach(dss, {}, reached);
    for (const QPDFObjGen& og : reached) {
      index.brought.emplace(og, "validation data (DSS)");
      index.validation_data.insert(og);
    }
  }
  Reach(pdf.getTrailer(), {}, index.referenced);
  return index;
}

namespace {

// --- What later revisions changed ---------------------------------------------

class ChangeFinder {
 public:
  // `no_changes_permitted`: the signature is a certification signature whose
  // DocMDP permissions are P=1.
  ChangeFinder(QPDF& signed_revision, QPDF& whole, const DocumentIndex& index, bool no_changes_permitted)
      : old_(signed_revision), new_(whole), index_(index), no_changes_permitted_(no_changes_permitted) {}

  std::vector<PdfLaterChange> Find() {
    for (QPDFObjectHandle& h : old_.getAllObjects()) old_objects_.insert(h.getObjGen());
    std::set<QPDFObjGen> removed = old_objects_;
    for (QPDFObjectHandle& h : new_.getAllObjects()) {
      const QPDFObjGen og = h.getObjGen();
      if (removed.erase(og) == 0) {
        Added(h);
        continue;
      }
      QPDFObjectHandle before = old_.getObjectByObjGen(og);
      if (Fingerprint(before) != Fingerprint(h)) Changed(before, h);
    }
    for (const QPDFObjGen& og : removed) {
      Note(false, "removed object " + ObjectName(og) + index_.Describe(og));
    }
    // What a signature field added or filled is comes first; the objects and
    // bookkeeping that came with it follow.
    field_changes_.insert(field_changes_.end(), std::make_move_iterator(changes_.begin()),
                          std::make_move_iterator(changes_.end()));
    return std::move(field_changes_);
  }

 private:
  struct Judgement {
    bool allowed = false;
    std::string how;  // "a signature over its own revision", "unsigned, with a visible appearance covering ..."
  };

  void Note(bool allowed, std::string what) { changes_.push_back({std::move(what), allowed}); }

  // A signature field that a later revision adds, or whose empty field it
  // fills: a signature over its own revision, or an empty field no reader
  // sees, made ready for a later signer (ISO 32000-2 12.8.2.2: signing is
  // what DocMDP P=2 and P=3 permit; P=1 permits neither).
  Judgement Judge(const SignatureFieldFacts& f) const {
    if (no_changes_permitted_ && !f.document_timestamp) {
      return {false,
              "which this certification signature forbids: its DocMDP permissions (P=1) allow no change but "
              "validation data (DSS) and document time-stamps"};
    }
    if (f.has_value) {
      if (!f.unsigned_part.empty()) {
        std::string how = "with a /V that does not sign it: " + f.unsigned_part;
        if (!f.visible.empty()) how += "; and with " + f.visible;
        return {false, how};
      }
      return {true, std::string(f.document_timestamp ? "a document time-stamp" : "a signature") +
                        " over its own revision" + (f.visible.empty() ? "" : ", with " + f.visible)};
    }
    if (!f.visible.empty()) return {false, "unsigned, with " + f.visible};
    if (f.has_actions) return {false, "unsigned, with actions (/A or /AA) that run when a reader opens or touches it"};
    return {true, "empty and invisible (" + f.invisible_because + "), for a later signer"};
  }

  // Whether the object brought by signature fields or the DSS may be added: the
  // DSS may always add; a field's object may be added when the field may.
  bool BroughtAllowed(QPDFObjGen og) const {
    if (index_.validation_data.count(og) != 0) return true;
    auto by = index_.brought_by_fields.find(og);
    if (by == index_.brought_by_fields.end()) return false;
    return std::any_of(by->second.begin(), by->second.end(),
                       [this](std::size_t field) { return Judge(index_.fields[field]).allowed; });
  }

  // Whether the field was there, without a value, in the signed revision.
  bool WasEmpty(const SignatureFieldFacts& f) const {
    if (old_objects_.count(f.object) == 0) return false;
    QPDFObjectHandle before = old_.getObjectByObjGen(f.object);
    return before.isDictionary() && !before.getKey("/V").isDictionary();
  }

  void Added(QPDFObjectHandle h) {
    const QPDFObjGen og = h.getObjGen();
    if (const SignatureFieldFacts* field = index_.FieldAt(og)) {
      Judgement judgement = Judge(*field);
      field_changes_.push_back({index_.Label(og) + " added after signing, " + judgement.how, judgement.allowed});
    } else if (auto by = index_.brought.find(og); by != index_.brought.end()) {
      auto role = index_.roles.find(og);
      Note(BroughtAllowed(og), role != index_.roles.end() ? "added " + role->second + " (object " + ObjectName(og) + ")"
                                                          : "added object " + ObjectName(og) + " (" + by->second + ")");
    } else if (index_.referenced.count(og) == 0) {
      // Nothing refers to it, so no reader shows or uses it (pdfsig leaves such objects).
      Note(true, "added object " + ObjectName(og) + ", referenced by nothing");
    } else {
      std::string what = "added object " + ObjectName(og);
      QPDFObjectHandle dict = h.isStream() ? h.getDict() : h;
      if (dict.isDictionary() && dict.getKey("/Subtype").isName()) {
        // Annotations may omit /Type; a /Rect says what they are.
        const bool annotation = dict.getKey("/Type").isNameAndEquals("/Annot") || dict.hasKey("/Rect");
        what += " (a " + dict.getKey("/Subtype").getName() + (annotation ? " annotation)" : " object)");
      } else {
        what += index_.Describe(og);
      }
      Note(false, what);
    }
  }

  // Added entries of an array that must all be signature fields (or their widgets).
  void ArrayOfSignatureFields(QPDFObjectHandle before, QPDFObjectHandle after, const std::string& where) {
    std::vector<std::string> old_items = Items(before);
    std::vector<std::string> new_items = Items(after);
    for (const std::string& item : old_items) {
      if (std::find(new_items.begin(), new_items.end(), item) == new_items.end())
        Note(false, where + ": removed " + item);
    }
    std::vector<QPDFObjectHandle> handles =
        after.isArray() ? after.getArrayAsVector() : std::vector<QPDFObjectHandle>{};
    for (QPDFObjectHandle& item : handles) {
      if (std::find(old_items.begin(), old_items.end(), item.unparse()) != old_items.end()) continue;
      const SignatureFieldFacts* field = item.isIndirect() ? index_.FieldAt(item.getObjGen()) : nullptr;
      if (field != nullptr) {
        // A field this revision adds or fills is judged as such; one already
        // there, now put on a page, shows what it shows.
        const QPDFObjGen og = item.getObjGen();
        const bool unchanged =
            old_objects_.count(og) != 0 && Fingerprint(old_.getObjectByObjGen(og)) == Fingerprint(item);
        Note(unchanged ? field->visible.empty() : Judge(*field).allowed,
             where + ": added signature field " + field->name);
      } else {
        Note(false, where + ": added " + item.unparse() + index_.Describe(item.getObjGen()) +
                        (item.isDictionary() && item.getKey("/Subtype").isName()
                             ? " (a " + item.getKey("/Subtype").getName() + " annotation)"
                             : ""));
      }
    }
  }

  // A dictionary whose changed keys must all be in `allowed` (with /Fields and /Annots checked item by item).
  void DictionaryKeys(QPDFObjectHandle before, QPDFObjectHandle after, const std::string& where,
                      const std::set<std::string>& allowed) {
    std::set<std::string> keys = before.getKeys();
    for (const std::string& k : after.getKeys()) keys.insert(k);
    for (const std::string& key : keys) {
      QPDFObjectHandle b = before.getKey(key);
      QPDFObjectHandle a = after.getKey(key);
      if (b.unparse() == a.unparse()) continue;
      if (allowed.count(key) == 0) {
        Note(false, where + ": changed " + key);
      } else if (key == "/Fields" || key == "/Annots") {
        ArrayOfSignatureFields(b, a, where + " " + key);
      } else if (key == "/AcroForm" && !a.isIndirect()) {
        DictionaryKeys(b.isDictionary() ? b : QPDFObjectHandle::newDictionary(), a, "the AcroForm", kAcroFormKeys);
      } else {
        Note(true, where + ": changed " + key);
      }
    }
  }

  void Changed(QPDFObjectHandle before, QPDFObjectHandle after) {
    const QPDFObjGen og = after.getObjGen();
    auto role = index_.roles.find(og);
    const std::string where = role != index_.roles.end() ? role->second : "object " + ObjectName(og);
    const SignatureFieldFacts* field = index_.FieldAt(og);
    if (og == new_.getRoot().getObjGen() && before.isDictionary() && after.isDictionary()) {
      DictionaryKeys(before, after, where, {"/AcroForm", "/DSS", "/Extensions"});
    } else if (where == "the AcroForm" && before.isDictionary() && after.isDictionary()) {
      DictionaryKeys(before, after, where, kAcroFormKeys);
    } else if (index_.page_numbers.count(og) != 0 && before.isDictionary() && after.isDictionary()) {
      DictionaryKeys(before, after, where, {"/Annots"});
    } else if (index_.annots_arrays.count(og) != 0 && before.isArray() && after.isArray()) {
      ArrayOfSignatureFields(before, after, "page " + index_.annots_arrays.at(og) + " /Annots");
    } else if (field != nullptr && WasEmpty(*field)) {
      // An empty signature field that was there before signing, now signed or otherwise changed.
      Judgement judgement = Judge(*field);
      field_changes_.push_back({judgement.allowed && field->has_value
                                    ? "signed the empty signature field " + field->name + " (object " + ObjectName(og) +
                                          "), " + judgement.how
                                    : index_.Label(og) + " changed after signing, " + judgement.how,
                                judgement.allowed});
    } else {
      Note(false, "changed " + where + (role == index_.roles.end() ? "" : " (object " + ObjectName(og) + ")"));
    }
  }

  // Signing adds fields and may add default resources for their appearance.
  inline static const std::set<std::string> kAcroFormKeys = {"/Fields", "/SigFlags", "/DR"};

  QPDF& old_;
  QPDF& new_;
  const DocumentIndex& index_;
  const bool no_changes_permitted_;
  std::set<QPDFObjGen> old_objects_;
  std::vector<PdfLaterChange> field_changes_;  // about signature fields (and their widgets) themselves
  std::vector<PdfLaterChange> changes_;
};

// --- The bytes after a signed revision ----------------------------------------

// The number after the last "startxref" before `end`: where the cross-reference
// section of the revision ending there begins.
std::optional<std::uint64_t> StartXrefBefore(ByteView pdf, std::uint64_t end) {
  std::string_view text(reinterpret_cast<const char*>(pdf.data()), end);
  std::size_t at = text.rfind("startxref");
  if (at == std::string_view::npos) return std::nullopt;
  at += std::string_view("startxref").size();
  while (at < text.size() && IsPdfSpace(static_cast<std::uint8_t>(text[at]))) ++at;
  std::uint64_t value = 0;
  auto [next, error] = std::from_chars(text.data() + at, text.data() + text.size(), value);
  if (error != std::errc() || next == text.data() + at) return std::nullopt;
  return value;
}

bool SameEntry(const QPDFXRefEntry& a, const QPDFXRefEntry& b) {
  if (a.getType() != b.getType()) return false;
  if (a.getType() == 1) return a.getOffset() == b.getOffset();
  if (a.getType() == 2)
    return a.getObjStreamNumber() == b.getObjStreamNumber() && a.getObjStreamIndex() == b.getObjStreamIndex();
  return true;
}

// Reads the bytes after a signed revision as ISO 32000-1 7.5.6 says an
// incremental update is written: objects, then a cross-reference table and
// trailer or a cross-reference stream, startxref pointing at that section,
// %%EOF; each trailer's /Prev naming the section before, each section listing
// exactly the objects its update defines, at the offsets where they begin.
// Whitespace may lie between and after updates, and comments within them.
// Whatever does not fit is a change nobody signed, and is reported as one:
// readers that rebuild the cross-reference table by scanning (as many do when
// a table looks damaged) show objects the table does not list.
class UpdateChecker {
 public:
  // `context`: the whole PDF parsed apart from the one the comparisons use,
  // because parsing objects no cross-reference section lists must not touch that one.
  UpdateChecker(ByteView pdf, QPDF& context, const DocumentIndex& index)
      : pdf_(pdf),
        // qpdf only reads an input buffer; the cast is its API's, not a write.
        buffer_(const_cast<unsigned char*>(pdf.data()), pdf.size()),
        input_(std::make_shared<BufferInputSource>("the PDF", &buffer_)),
        context_(context),
        index_(index) {
    tokenizer_.includeIgnorable();  // to see %%EOF, a comment
    tokenizer_.allowEOF();
  }

  // The problems with the bytes from `from` (the end of a signed revision) to the end of the file.
  std::vector<PdfLaterChange> Check(std::uint64_t from, QPDF& signed_revision) {
    problems_.clear();
    std::optional<std::uint64_t> startxref = StartXrefBefore(pdf_, from);
    if (!startxref) {
      Problem("the signed revision (bytes 0 to " + std::to_string(from) + ") has no startxref");
      return std::move(problems_);
    }
    previous_startxref_ = *startxref;
    previous_table_ = signed_revision.getXRefTable();
    input_->seek(static_cast<qpdf_offset_t>(from), SEEK_SET);
    try {
      for (;;) {
        std::uint64_t at = 0;
        QPDFTokenizer::Token first = Next(at);
        if (first.getType() == QPDFTokenizer::tt_eof) break;
        Update update;
        update.start = at;
        if (!ReadUpdate(first, update) || !CheckUpdate(update)) break;
      }
    } catch (const std::exception& e) {
      Problem("the bytes after byte " + std::to_string(from) + " cannot be read as incremental updates: " + e.what());
    }
    return std::move(problems_);
  }

 private:
  struct ObjectAt {
    QPDFObjGen og;
    std::uint64_t at = 0;
    QPDFObjectHandle dict;  // the object's dictionary, or its stream's
  };
  struct Update {
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // just past its %%EOF
    std::vector<ObjectAt> objects;
    std::optional<std::uint64_t> xref_table_at;
    QPDFObjectHandle trailer;  // of the cross-reference table
    std::optional<std::uint64_t> startxref;
  };

  bool Problem(std::string what) {
    problems_.push_back({std::move(what), false});
    return false;
  }

  std::string Span(const Update& u) const {
    return "the update from byte " + std::to_string(u.start) + " to " + std::to_string(u.end);
  }

  // The next token that is not whitespace, and where it begins.
  QPDFTokenizer::Token Next(std::uint64_t& at) {
    for (;;) {
      at = static_cast<std::uint64_t>(input_->tell());
      QPDFTokenizer::Token t = tokenizer_.readToken(input_, "the PDF", true);
      if (t.getType() != QPDFTokenizer::tt_space) return t;
    }
  }

  static std::optional<std::int64_t> Integer(const QPDFTokenizer::Token& t) {
    if (!t.isInteger()) return std::nullopt;
    std::int64_t value = 0;
    const std::string& s = t.getValue();
    auto [next, error] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (error != std::errc() || next != s.data() + s.size()) return std::nullopt;
    return value;
  }

  // True when `target` (from a startxref) names the section at `at`: the same
  // byte, or whitespace before it.
  bool PointsAt(std::uint64_t target, std::uint64_t at) const {
    if (target > at) return false;
    for (std::uint64_t i = target; i < at; ++i) {
      if (!IsPdfSpace(pdf_[i])) return false;
    }
    return true;
  }

  // Reads one update, whose first token is `first`, up to its %%EOF.
  bool ReadUpdate(const QPDFTokenizer::Token& first, Update& update) {
    QPDFTokenizer::Token t = first;
    std::uint64_t at = update.start;
    for (;;) {
      if (t.getType() == QPDFTokenizer::tt_eof) {
        return Problem("the bytes from " + std::to_string(update.start) + " on end without %%EOF");
      } else if (t.getType() == QPDFTokenizer::tt_comment) {
        if (t.getValue().rfind("%%EOF", 0) == 0) {
          update.end = static_cast<std::uint64_t>(input_->tell());
          return NoSection(update);
        }
      } else if (t.isInteger()) {
        if (!ReadObject(t, at, update)) return false;
      } else if (t.isWord("xref") && !update.xref_table_at) {
        update.xref_table_at = at;
        if (!ReadXrefTable(at, update)) return false;
      } else if (t.isWord("startxref")) {
        std::uint64_t number_at = 0;
        std::optional<std::int64_t> value = Integer(Next(number_at));
        std::uint64_t eof_at = 0;
        QPDFTokenizer::Token eof = Next(eof_at);
        if (!value || *value < 0 || eof.getType() != QPDFTokenizer::tt_comment || eof.getValue().rfind("%%EOF", 0) != 0)
          return Problem("the startxref at byte " + std::to_string(at) + " is not followed by an offset and %%EOF");
        update.startxref = static_cast<std::uint64_t>(*value);
        update.end = static_cast<std::uint64_t>(input_->tell());
        return true;
      } else {
        return Problem("byte " + std::to_string(at) + " holds \"" + t.getValue().substr(0, 40) +
                       "\" where an object, a cross-reference section or startxref must begin");
      }
      t = Next(at);
    }
  }

  // An update that reached %%EOF without startxref: no reader that follows the
  // cross-reference sections sees what it holds.
  bool NoSection(const Update& u) {
    for (const ObjectAt& o : u.objects) Unlisted(o);
    return Problem("the bytes from " + std::to_string(u.start) + " to " + std::to_string(u.end) +
                   " end with %%EOF but hold no cross-reference section, trailer and startxref: they are no "
                   "incremental update");
  }

  void Unlisted(const ObjectAt& o) {
    Problem("object " + ObjectName(o.og) + index_.Describe(o.og) + " at byte " + std::to_string(o.at) +
            " is listed in no cross-reference section: readers that rebuild the cross-reference table by scanning "
            "show it, the others do not");
  }

  // "n g obj ... endobj", whose number token began at `at`.
  bool ReadObject(const QPDFTokenizer::Token& number, std::uint64_t at, Update& update) {
    const std::string where = "the object at byte " + std::to_string(at);
    std::uint64_t ignored = 0;
    std::optional<std::int64_t> n = Integer(number);
    std::optional<std::int64_t> g = Integer(Next(ignored));
    if (!n || !g || !Next(ignored).isWord("obj") || *n < 1 || *n > INT32_MAX || *g < 0 || *g > 65535)
      return Problem("byte " + std::to_string(at) +
                     " holds a number where an object, a cross-reference section or "
                     "startxref must begin");
    const QPDFObjGen og(static_cast<int>(*n), static_cast<int>(*g));
    QPDFTokenizer value_tokenizer;
    bool empty = false;
    QPDFObjectHandle value = QPDFObjectHandle::parse(input_, where, value_tokenizer, empty, nullptr, &context_);
    if (empty) return Problem(where + " (object " + ObjectName(og) + ") has no value");
    QPDFTokenizer::Token next = Next(ignored);
    if (next.isWord("stream")) {
      std::uint64_t data = static_cast<std::uint64_t>(input_->tell());
      // The keyword stream is followed by CR LF or LF (ISO 32000-1 7.3.8.1).
      if (data + 1 < pdf_.size() && pdf_[data] == '\r' && pdf_[data + 1] == '\n') {
        data += 2;
      } else if (data < pdf_.size() && pdf_[data] == '\n') {
        data += 1;
      } else {
        return Problem(where + " (object " + ObjectName(og) +
                       "): its keyword stream is not followed by an end of line");
      }
      QPDFObjectHandle length = value.isDictionary() ? value.getKey("/Length") : QPDFObjectHandle::newNull();
      if (!length.isInteger() || length.getIntValue() < 0 ||
          static_cast<std::uint64_t>(length.getIntValue()) > pdf_.size() - data)
        return Problem(where + " (object " + ObjectName(og) + ") has a stream without a readable /Length");
      input_->seek(static_cast<qpdf_offset_t>(data) + length.getIntValue(), SEEK_SET);
      if (!Next(ignored).isWord("endstream"))
        return Problem(where + " (object " + ObjectName(og) + "): its stream does not end where its /Length says");
      next = Next(ignored);
    }
    if (!next.isWord("endobj")) return Problem(where + " (object " + ObjectName(og) + ") does not end with endobj");
    update.objects.push_back({og, at, value});
    return true;
  }

  // "xref", subsections of entries, "trailer" and its dictionary (syntax only:
  // qpdf reads the entries when it opens the revision).
  bool ReadXrefTable(std::uint64_t at, Update& update) {
    const std::string malformed = "the cross-reference table at byte " + std::to_string(at) + " is malformed";
    std::uint64_t ignored = 0;
    for (;;) {
      QPDFTokenizer::Token t = Next(ignored);
      if (t.isWord("trailer")) break;
      std::optional<std::int64_t> first = Integer(t);
      std::optional<std::int64_t> count = Integer(Next(ignored));
      if (!first || !count || *count < 0 || static_cast<std::uint64_t>(*count) > pdf_.size()) return Problem(malformed);
      for (std::int64_t i = 0; i < *count; ++i) {
        const bool offset = Next(ignored).isInteger();
        const bool generation = Next(ignored).isInteger();
        QPDFTokenizer::Token kind = Next(ignored);
        if (!offset || !generation || !(kind.isWord("n") || kind.isWord("f"))) return Problem(malformed);
      }
    }
    QPDFTokenizer trailer_tokenizer;
    bool empty = false;
    update.trailer = QPDFObjectHandle::parse(input_, "a trailer", trailer_tokenizer, empty, nullptr, &context_);
    if (!update.trailer.isDictionary()) return Problem(malformed + ": its trailer is no dictionary");
    return true;
  }

  // The update's section, its /Prev, and that it lists exactly its own objects.
  bool CheckUpdate(const Update& u) {
    const std::uint64_t startxref = *u.startxref;
    QPDFObjectHandle trailer;
    std::optional<std::uint64_t> xref_stream_at;
    if (u.xref_table_at) {
      if (!PointsAt(startxref, *u.xref_table_at))
        return Problem(Span(u) + ": its startxref (" + std::to_string(startxref) +
                       ") does not point at its cross-reference table (byte " + std::to_string(*u.xref_table_at) + ")");
      trailer = u.trailer;
    } else {
      for (ObjectAt o : u.objects) {
        if (PointsAt(startxref, o.at) && o.dict.isDictionary() && o.dict.getKey("/Type").isNameAndEquals("/XRef")) {
          trailer = o.dict;
          xref_stream_at = o.at;
        }
      }
      if (!xref_stream_at)
        return Problem(Span(u) + ": its startxref (" + std::to_string(startxref) +
                       ") points at no cross-reference section of its own");
    }
    QPDFObjectHandle prev = trailer.getKey("/Prev");
    if (!prev.isInteger() || prev.getIntValue() < 0 ||
        static_cast<std::uint64_t>(prev.getIntValue()) != previous_startxref_)
      return Problem(Span(u) + ": its /Prev (" + (prev.isNull() ? std::string("none") : prev.unparse()) +
                     ") is not the previous cross-reference section (byte " + std::to_string(previous_startxref_) +
                     ")");
    // A hybrid-reference update's table names its cross-reference stream in /XRefStm.
    QPDFObjectHandle hybrid = u.xref_table_at ? trailer.getKey("/XRefStm") : QPDFObjectHandle::newNull();
    auto revision = OpenPdf(pdf_.first(u.end), "a later revision");
    if (!revision.ok()) return Problem(Span(u) + " is no readable revision: " + revision.status().message());
    std::map<QPDFObjGen, QPDFXRefEntry> table = (*revision)->getXRefTable();

    bool well_formed = true;
    for (const ObjectAt& o : u.objects) {
      auto entry = table.find(o.og);
      const bool listed = entry != table.end() && entry->second.getType() == 1 &&
                          static_cast<std::uint64_t>(entry->second.getOffset()) == o.at;
      const bool section =
          (xref_stream_at && o.at == *xref_stream_at) ||
          (hybrid.isInteger() && hybrid.getIntValue() >= 0 && static_cast<std::uint64_t>(hybrid.getIntValue()) == o.at);
      if (!listed && !section) {
        Unlisted(o);
        well_formed = false;
      }
    }
    for (const auto& [og, entry] : table) {
      auto before = previous_table_.find(og);
      if (before != previous_table_.end() && SameEntry(before->second, entry)) continue;
      if (entry.getType() == 1) {
        const std::uint64_t offset = static_cast<std::uint64_t>(entry.getOffset());
        const bool defined = std::any_of(u.objects.begin(), u.objects.end(),
                                         [&](const ObjectAt& o) { return o.og == og && o.at == offset; });
        if (!defined) {
          well_formed =
              Problem(Span(u) + ": its cross-reference section puts object " + ObjectName(og) + index_.Describe(og) +
                      " at byte " + std::to_string(offset) + ", where the update defines no such object");
        }
      } else if (entry.getType() == 2) {
        const int stream = entry.getObjStreamNumber();
        const bool defined =
            std::any_of(u.objects.begin(), u.objects.end(), [&](const ObjectAt& o) { return o.og.getObj() == stream; });
        if (!defined) {
          well_formed =
              Problem(Span(u) + ": its cross-reference section puts object " + ObjectName(og) + index_.Describe(og) +
                      " in object stream " + std::to_string(stream) + ", which the update does not define");
        }
      }
    }
    previous_table_ = std::move(table);
    previous_startxref_ = startxref;
    return well_formed;
  }

  ByteView pdf_;
  Buffer buffer_;
  std::shared_ptr<BufferInputSource> input_;
  QPDFTokenizer tokenizer_;
  QPDF& context_;
  const DocumentIndex& index_;
  std::uint64_t previous_startxref_ = 0;
  std::map<QPDFObjGen, QPDFXRefEntry> previous_table_;
  std::vector<PdfLaterChange> problems_;
};

}  // namespace

bool EndsWithEof(ByteView pdf) {
  std::size_t end = pdf.size();
  while (end > 0 && IsPdfSpace(pdf[end - 1])) --end;
  constexpr std::string_view kEof = "%%EOF";
  return end >= kEof.size() &&
         std::string_view(reinterpret_cast<const char*>(pdf.data()) + end - kEof.size(), kEof.size()) == kEof;
}

std::vector<PdfLaterChange> FindChanges(QPDF& signed_revision, QPDF& whole, const DocumentIndex& index,
                                        bool no_changes_permitted) {
  return ChangeFinder(signed_revision, whole, index, no_changes_permitted).Find();
}

std::vector<PdfLaterChange> CheckUpdatesAfter(ByteView pdf, QPDF& signed_revision, std::uint64_t from, QPDF& context,
                                              const DocumentIndex& index) {
  return UpdateChecker(pdf, context, index).Check(from, signed_revision);
}

}  // namespace preserve::signature::pdf
