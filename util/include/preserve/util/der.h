// The little DER preserve reads and writes by hand, where OpenSSL's ASN.1
// templates would cost more than the work itself on a hot path: the embedded
// TSA's tokens and its reader of plain requests, and a CMS SignedData
// re-encoded without its certificates so that known ones need no parsing.
// Everything else goes through OpenSSL's i2d/d2i.
//
// Strict DER only: identifiers of one octet (tag numbers below 31), definite
// lengths in as few octets as they need. Anything else is not read (nullopt),
// so a caller hands such input to OpenSSL, which judges it. Thread-safe: no
// state beyond the objects themselves.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "preserve/util/bytes.h"

namespace preserve::der {

// Identifier octets: class, constructed bit and tag number in one.
constexpr std::uint8_t kBoolean = 0x01;
constexpr std::uint8_t kInteger = 0x02;
constexpr std::uint8_t kOctetString = 0x04;
constexpr std::uint8_t kNull = 0x05;
constexpr std::uint8_t kOid = 0x06;
constexpr std::uint8_t kUtcTime = 0x17;
constexpr std::uint8_t kGeneralizedTime = 0x18;
constexpr std::uint8_t kSequence = 0x30;
constexpr std::uint8_t kSet = 0x31;
constexpr std::uint8_t kContext0 = 0xa0;  // [0], constructed

// Whether `identifier` is context-specific [n], constructed or not.
constexpr bool IsContext(std::uint8_t identifier, std::uint8_t n) { return (identifier & 0xdf) == (0x80 | n); }

// Tag, definite length, then the pieces in order.
Bytes Tlv(std::uint8_t tag, std::initializer_list<ByteView> pieces);

// The same element appended to `out`.
void AppendTlv(Bytes& out, std::uint8_t tag, ByteView content);

// An element's header alone (its content follows, written by the caller),
// and an element's whole size: for writers that size their output first.
void AppendHeader(Bytes& out, std::uint8_t tag, std::size_t content_length);
std::size_t TlvSize(std::size_t content_length);

// One element read: its identifier octet, and where it lies.
struct Element {
  std::uint8_t tag = 0;
  ByteView whole;  // header and content
  ByteView content;
};

// DER from the front of a buffer, one element at a time. Lengths are limited
// to four octets (4 GiB), far beyond anything read this way.
class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  bool empty() const { return in_.empty(); }
  bool NextIs(std::uint8_t tag) const { return !in_.empty() && in_[0] == tag; }

  // The next element, whatever its tag; nullopt (nothing consumed) when it
  // is not strict DER or runs past the end.
  std::optional<Element> Next();

  // The content of the next element, which must have `tag`; nullopt
  // otherwise (nothing is then consumed). `whole` gets the element with its
  // header.
  std::optional<ByteView> Read(std::uint8_t tag, ByteView* whole = nullptr);

 private:
  ByteView in_;
};

}  // namespace preserve::der
