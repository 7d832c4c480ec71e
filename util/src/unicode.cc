#include "preserve/util/unicode.h"

#include <iconv.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <type_traits>

namespace preserve {

namespace {

// `byte` as '%' and two upper-case hex digits, the one form in which preserve
// shows a byte it will not show as it is.
void AppendPercentEscaped(char byte, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto value = static_cast<std::uint8_t>(byte);
  out += '%';
  out.push_back(kHex[value >> 4]);
  out.push_back(kHex[value & 0x0F]);
}

// The length of the well-formed UTF-8 sequence starting at `at`; 0 when the
// byte there does not start one.
std::size_t SequenceAt(std::string_view s, std::size_t at) {
  const auto lead = static_cast<unsigned char>(s[at]);
  const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
  if (length == 0 || length > s.size() - at) return 0;
  std::uint32_t code_point = length == 1 ? lead : lead & (0x7fu >> length);
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(s[at + k]);
    if ((next >> 6) != 0x2) return 0;
    code_point = (code_point << 6) | (next & 0x3fu);
  }
  static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length] || code_point > 0x10ffff || (code_point >= 0xd800 && code_point <= 0xdfff))
    return 0;
  return length;
}

// `c` (a scalar value: ICU hands out no surrogates from valid UTF-8) as UTF-8.
void AppendUtf8(std::uint32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

const icu::Normalizer2* Nfc(UErrorCode& status) { return icu::Normalizer2::getNFCInstance(status); }

std::string IcuFailure(const std::string& what, UErrorCode status) {
  return what + " failed: " + u_errorName(status);
}

enum class Form { kNfc, kNfd };

// `text` in the normalization form `form`; kInvalidArgument when it is not UTF-8.
Result<std::string> Normalize(std::string_view text, Form form) {
  if (!IsUtf8(text)) return Status::InvalidArgument("'" + EscapeForDisplay(text) + "' is not UTF-8");
  if (text.size() > INT32_MAX) return Status::InvalidArgument("text too long to normalize");
  const char* name = form == Form::kNfc ? "NFC" : "NFD";
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = form == Form::kNfc ? Nfc(status) : icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) return Status::Internal(IcuFailure(std::string("ICU's ") + name + " normalizer", status));
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
  normalizer->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), sink, nullptr, status);
  if (U_FAILURE(status)) return Status::Internal(IcuFailure(std::string(name) + " normalization", status));
  return out;
}

struct IconvClose {
  void operator()(std::remove_pointer_t<iconv_t>* cd) const { iconv_close(cd); }
};
using IconvPtr = std::unique_ptr<std::remove_pointer_t<iconv_t>, IconvClose>;

Result<IconvPtr> OpenDecoder(std::string_view code_page) {
  const std::string from(code_page);
  iconv_t cd = iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1))
    return Status::InvalidArgument("'" + EscapeForDisplay(code_page) + "' is not a code page iconv knows");
  return IconvPtr(cd);
}

}  // namespace

bool IsUtf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    // ASCII runs are the common case: no decoding.
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const std::size_t length = SequenceAt(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

std::string EscapeInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = SequenceAt(text, at);
    if (length == 0) {
      AppendPercentEscaped(text[at], out);
      ++at;
      continue;
    }
    out.append(text.substr(at, length));
    at += length;
  }
  return out;
}

bool IsNfcUtf8(std::string_view text) {
  if (!IsUtf8(text)) return false;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = Nfc(status);
  if (U_FAILURE(status)) return false;
  const UBool normalized = nfc->isNormalizedUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())),
                                                 status);
  return U_SUCCESS(status) && normalized != 0;
}

Result<std::string> ToNfc(std::string_view text) { return Normalize(text, Form::kNfc); }

Result<std::string> DecodeCodePage(std::string_view bytes, std::string_view code_page) {
  PRESERVE_ASSIGN_OR_RETURN(IconvPtr decoder, OpenDecoder(code_page));
  // A byte becomes at most 3 bytes of UTF-8 (the code pages are in the BMP);
  // the extra room takes what a stateful decoder (CP1258 keeps the last base
  // letter back, to combine it with a tone mark that may follow) lets go of
  // at the end.
  std::string out(bytes.size() * 3 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());  // iconv's signature; it does not write through it
  std::size_t in_left = bytes.size();
  char* to = out.data();
  std::size_t to_left = out.size();
  auto failed = [&](const char* why) {
    const std::size_t offset = bytes.size() - in_left;
    return Status::InvalidArgument("'" + EscapeForDisplay(bytes) + "' is not " + std::string(code_page) + ": " + why +
                                   " at byte " + std::to_string(offset));
  };
  if (iconv(decoder.get(), &in, &in_left, &to, &to_left) == static_cast<std::size_t>(-1))
    return failed(errno == EINVAL ? "a truncated sequence" : "a byte it does not define");
  // Without this flush the held-back letter would be lost (libarchive's
  // hdrcharset=CP1258 misses it: every name comes out one letter short).
  if (iconv(decoder.get(), nullptr, nullptr, &to, &to_left) == static_cast<std::size_t>(-1))
    return failed("an incomplete character");
  out.resize(out.size() - to_left);
  return ToNfc(out);
}

Status CheckCodePage(std::string_view code_page) { return OpenDecoder(code_page).status(); }

std::string EscapeForDisplay(std::string_view bytes) {
  // Bytes that are not UTF-8 as preserve shows them everywhere; the controls,
  // which are UTF-8, in the same form.
  const std::string text = EscapeInvalidUtf8(bytes);
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size(); ++at) {
    const auto byte = static_cast<std::uint8_t>(text[at]);
    if (byte < 0x20 || byte == 0x7F) {
      AppendPercentEscaped(text[at], out);
    } else if (byte == 0xC2 && static_cast<std::uint8_t>(text[at + 1]) < 0xA0) {
      // U+0080 to U+009F, the C1 controls (a lead byte in valid UTF-8 is followed by its continuation).
      AppendPercentEscaped(text[at], out);
      AppendPercentEscaped(text[++at], out);
    } else {
      out.push_back(text[at]);
    }
  }
  return out;
}

std::string NameForDisplay(std::string_view bytes) {
  const Result<std::string> nfc = ToNfc(bytes);
  return EscapeForDisplay(nfc.ok() ? std::string_view(*nfc) : bytes);
}

Result<std::string> FoldForSearch(std::string_view text) {
  PRESERVE_ASSIGN_OR_RETURN(const std::string decomposed, Normalize(text, Form::kNfd));
  std::string folded;
  folded.reserve(decomposed.size());
  const auto* s = reinterpret_cast<const std::uint8_t*>(decomposed.data());
  const auto length = static_cast<int32_t>(decomposed.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
    if (c < 0) continue;  // cannot happen: the input was checked
    if (u_charType(c) == U_NON_SPACING_MARK) continue;
    c = u_foldCase(c, U_FOLD_CASE_DEFAULT);
    // Letters with a stroke have no decomposition: their "diacritic" is part
    // of the letter. Vietnamese writes đ for a d sound, and searchers type d.
    switch (c) {
      case 0x0111: c = 'd'; break;  // đ (Đ folds to it)
      case 0x00F8: c = 'o'; break;  // ø
      case 0x0142: c = 'l'; break;  // ł
      case 0x0127: c = 'h'; break;  // ħ
      default: break;
    }
    AppendUtf8(static_cast<std::uint32_t>(c), folded);
  }
  return ToNfc(folded);
}

}  // namespace preserve
