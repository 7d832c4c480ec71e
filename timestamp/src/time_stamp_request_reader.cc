#include "time_stamp_request_reader.h"

#include <cstddef>
#include <cstdint>

namespace preserve::timestamp::internal {

namespace {

constexpr std::uint8_t kBoolean = 0x01;
constexpr std::uint8_t kInteger = 0x02;
constexpr std::uint8_t kOctetString = 0x04;
constexpr std::uint8_t kNull = 0x05;
constexpr std::uint8_t kOid = 0x06;
constexpr std::uint8_t kSequence = 0x30;

// DER from the front of `in`, one element at a time. Only the one-octet tags
// a TimeStampReq uses; a multi-octet tag, an indefinite length, a length in
// more octets than it needs, or one past the end stops the reading.
class DerReader {
 public:
  explicit DerReader(ByteView in) : in_(in) {}

  bool empty() const { return in_.empty(); }
  bool NextIs(std::uint8_t tag) const { return !in_.empty() && in_[0] == tag; }

  // The content of the next element, which must have `tag`; nullopt otherwise
  // (nothing is then consumed). `whole` gets the element with its header.
  std::optional<ByteView> Read(std::uint8_t tag, ByteView* whole = nullptr) {
    if (!NextIs(tag) || in_.size() < 2) return std::nullopt;
    std::size_t length = in_[1];
    std::size_t header = 2;
    if (length >= 0x80) {
      const std::size_t octets = length & 0x7f;
      // 0x80 is BER's indefinite length; a request is far below 2^32 bytes.
      if (octets == 0 || octets > 4 || in_.size() < 2 + octets || in_[2] == 0) return std::nullopt;
      length = 0;
      for (std::size_t i = 0; i < octets; ++i) length = (length << 8) | in_[2 + i];
      if (length < 0x80) return std::nullopt;  // fits the short form
      header += octets;
    }
    if (length > in_.size() - header) return std::nullopt;
    if (whole != nullptr) *whole = in_.first(header + length);
    ByteView content = in_.subspan(header, length);
    in_ = in_.subspan(header + length);
    return content;
  }

 private:
  ByteView in_;
};

}  // namespace

std::optional<PlainTimeStampRequest> ReadPlainTimeStampRequest(ByteView der) {
  DerReader outer(der);
  std::optional<ByteView> request_content = outer.Read(kSequence);
  if (!request_content || !outer.empty()) return std::nullopt;
  DerReader request(*request_content);

  std::optional<ByteView> version = request.Read(kInteger);
  if (!version || version->size() != 1 || (*version)[0] != 1) return std::nullopt;

  std::optional<ByteView> imprint_content = request.Read(kSequence);
  if (!imprint_content) return std::nullopt;
  DerReader imprint(*imprint_content);
  std::optional<ByteView> algorithm_content = imprint.Read(kSequence);
  if (!algorithm_content) return std::nullopt;
  DerReader algorithm(*algorithm_content);
  std::optional<ByteView> algorithm_oid = algorithm.Read(kOid);
  if (!algorithm_oid || algorithm_oid->empty()) return std::nullopt;
  PlainTimeStampRequest out{};
  out.imprint_algorithm = *algorithm_oid;
  if (algorithm.NextIs(kNull)) {
    std::optional<ByteView> null = algorithm.Read(kNull);
    if (!null || !null->empty()) return std::nullopt;
    out.imprint_null_parameters = true;
  }
  if (!algorithm.empty()) return std::nullopt;  // parameters other than NULL
  std::optional<ByteView> hashed = imprint.Read(kOctetString);
  if (!hashed || !imprint.empty()) return std::nullopt;
  out.hashed_message = *hashed;

  if (request.NextIs(kOid)) {
    std::optional<ByteView> policy = request.Read(kOid);
    if (!policy || policy->empty()) return std::nullopt;
    out.policy = *policy;
  }
  if (request.NextIs(kInteger)) {
    std::optional<ByteView> nonce = request.Read(kInteger, &out.nonce);
    // DER's INTEGER has no leading octet that only repeats the sign.
    if (!nonce || nonce->empty() ||
        (nonce->size() > 1 && (((*nonce)[0] == 0x00 && (*nonce)[1] < 0x80) ||
                               ((*nonce)[0] == 0xff && (*nonce)[1] >= 0x80))))
      return std::nullopt;
  }
  if (request.NextIs(kBoolean)) {
    // DER leaves a DEFAULT value out, so an encoded certReq is TRUE, as 0xff.
    std::optional<ByteView> cert_req = request.Read(kBoolean);
    if (!cert_req || cert_req->size() != 1 || (*cert_req)[0] != 0xff) return std::nullopt;
    out.cert_req = true;
  }
  // Extensions, or anything else: OpenSSL's to read.
  if (!request.empty()) return std::nullopt;
  return out;
}

}  // namespace preserve::timestamp::internal
