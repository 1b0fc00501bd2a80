// Status codes and the per-thread error message behind mplug_last_error().
#pragma once

#include <string>

#include "mplug_native.h"

namespace mplug {

// Records the message for mplug_last_error() and returns the code, so callers can `return fail(...)`.
int32_t fail(int32_t code, const std::string &message);

// Clears the message at the start of every API call.
void clear_error();

}  // namespace mplug
