// Content of any size, pushed in pieces: how a document's bytes travel from a
// file or the store to whatever digests, validates or copies them, without
// ever being held whole in memory.
#pragma once

#include <functional>

#include "preserve/util/bytes.h"
#include "preserve/util/status.h"

namespace preserve {

// A ContentSource calls the sink with each piece in order, stops at the first
// error the sink returns, and returns that error or its own (the file or the
// store failed).
using ContentSink = std::function<Status(ByteView piece)>;
using ContentSource = std::function<Status(const ContentSink& sink)>;

}  // namespace preserve
