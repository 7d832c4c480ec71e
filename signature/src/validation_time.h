// CMS validation as of a time the caller settles, for validators that judge a
// signature at a time of their own (a PDF signature at its /M date) rather
// than at the options' clock.
#pragma once

#include <optional>

#include "preserve/signature/signature_validation.h"
#include "preserve/util/clock.h"

namespace preserve::signature::internal {

// The time validation is as of: options.validation_time, else options.clock's
// now; kInvalidArgument when neither is given.
Result<TimePoint> ValidationTime(const CmsValidationOptions& options);

// ValidateCms, with `validation_time` as "now": the signing time of a
// signature that claims none, and the time revocation data must be fresh
// at. options.clock is not read and may be null.
Result<CmsValidation> ValidateCmsAt(ByteView signature, std::optional<ByteView> detached_content,
                                    const CmsValidationOptions& options, TimePoint validation_time);

}  // namespace preserve::signature::internal
