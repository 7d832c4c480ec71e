// A TSA transport for tests that keeps the TimeStampReq a client sends and
// answers it with the TSA it wraps.
#pragma once

#include "preserve/timestamp/time_stamp.h"
#include "preserve/util/bytes.h"

namespace preserve::timestamp {

class RecordingTsa final : public TsaTransport {
 public:
  explicit RecordingTsa(TsaTransport& tsa) : tsa_(tsa) {}
  Result<Bytes> Exchange(const Bytes& request_der) override {
    request = request_der;
    return tsa_.Exchange(request_der);
  }
  Bytes request;

 private:
  TsaTransport& tsa_;
};

}  // namespace preserve::timestamp
