// The embedded TSA's fast reading of an RFC 3161 TimeStampReq.
//
// Most requests a TSA gets are the plain form `openssl ts -query`, BouncyCastle
// and preserve itself send: version 1, an imprint, maybe a policy and a nonce,
// maybe certReq, no extensions, in DER. Reading that form is a few comparisons
// on the bytes, while d2i_TS_REQ builds (and TS_REQ_free frees) a tree of a
// dozen ASN.1 objects: at the service's request rate, a few percent of the
// ECDSA signature the request is for. Anything else (BER, extensions, other
// versions, a padded nonce, malformed input) is not read here; the caller
// hands it to OpenSSL, which grants or rejects it as before.
#pragma once

#include <optional>

#include "preserve/util/bytes.h"

namespace preserve::timestamp::internal {

// Views into the request's bytes, valid while they are.
struct PlainTimeStampRequest {
  ByteView imprint_algorithm;    // the OID's content octets
  bool imprint_null_parameters = false;  // parameters NULL, rather than absent
  ByteView hashed_message;
  ByteView policy;  // the OID's content octets; empty when none was asked for
  ByteView nonce;   // the whole INTEGER, tag and length too, copied as is into TSTInfo; empty when none
  bool cert_req = false;
};

// `der` read as
//   TimeStampReq ::= SEQUENCE {
//     version INTEGER { v1(1) },
//     messageImprint SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING },
//     reqPolicy OBJECT IDENTIFIER OPTIONAL, nonce INTEGER OPTIONAL,
//     certReq BOOLEAN DEFAULT FALSE, extensions [0] IMPLICIT Extensions OPTIONAL }
// with no extensions and the algorithm's parameters absent or NULL, in DER
// (definite lengths in the fewest octets, a minimal nonce, certReq only when
// TRUE) and nothing after it. nullopt for anything else.
std::optional<PlainTimeStampRequest> ReadPlainTimeStampRequest(ByteView der);

}  // namespace preserve::timestamp::internal
