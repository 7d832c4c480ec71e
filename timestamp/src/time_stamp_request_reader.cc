#include "time_stamp_request_reader.h"

#include "preserve/util/der.h"

namespace preserve::timestamp::internal {

using der::kBoolean;
using der::kInteger;
using der::kNull;
using der::kOctetString;
using der::kOid;
using der::kSequence;
using DerReader = der::Reader;

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
