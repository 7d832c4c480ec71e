#include "preserve/util/der.h"

namespace preserve::der {

namespace {

// The length octets DER gives `length`: the short form below 0x80, else
// 0x80 | n and n big-endian octets, n as small as it can be.
void AppendLength(Bytes& out, std::size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  int octets = 0;
  for (std::size_t rest = length; rest != 0; rest >>= 8) ++octets;
  out.push_back(static_cast<std::uint8_t>(0x80 | octets));
  for (int i = octets - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
}

}  // namespace

Bytes Tlv(std::uint8_t tag, std::initializer_list<ByteView> pieces) {
  std::size_t length = 0;
  for (ByteView piece : pieces) length += piece.size();
  Bytes out;
  out.reserve(length + 6);
  out.push_back(tag);
  AppendLength(out, length);
  for (ByteView piece : pieces) out.insert(out.end(), piece.begin(), piece.end());
  return out;
}

void AppendTlv(Bytes& out, std::uint8_t tag, ByteView content) {
  AppendHeader(out, tag, content.size());
  out.insert(out.end(), content.begin(), content.end());
}

void AppendHeader(Bytes& out, std::uint8_t tag, std::size_t content_length) {
  out.push_back(tag);
  AppendLength(out, content_length);
}

std::size_t TlvSize(std::size_t content_length) {
  std::size_t length_octets = 1;
  if (content_length >= 0x80)
    for (std::size_t rest = content_length; rest != 0; rest >>= 8) ++length_octets;
  return 1 + length_octets + content_length;
}

std::optional<Element> Reader::Next() {
  // 0x1f: a tag number in further octets, which nothing read here uses.
  if (in_.size() < 2 || (in_[0] & 0x1f) == 0x1f) return std::nullopt;
  std::size_t length = in_[1];
  std::size_t header = 2;
  if (length >= 0x80) {
    const std::size_t octets = length & 0x7f;
    // 0x80 is BER's indefinite length; a leading zero octet is not minimal.
    if (octets == 0 || octets > 4 || in_.size() < 2 + octets || in_[2] == 0) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) length = (length << 8) | in_[2 + i];
    if (length < 0x80) return std::nullopt;  // fits the short form
    header += octets;
  }
  if (length > in_.size() - header) return std::nullopt;
  Element e;
  e.tag = in_[0];
  e.whole = in_.first(header + length);
  e.content = in_.subspan(header, length);
  in_ = in_.subspan(header + length);
  return e;
}

std::optional<ByteView> Reader::Read(std::uint8_t tag, ByteView* whole) {
  if (!NextIs(tag)) return std::nullopt;
  std::optional<Element> e = Next();
  if (!e) return std::nullopt;
  if (whole != nullptr) *whole = e->whole;
  return e->content;
}

}  // namespace preserve::der
