#include "status.h"

namespace {
thread_local std::string last_error;
}

namespace mplug {

int32_t fail(int32_t code, const std::string &message) {
  last_error = message;
  return code;
}

void clear_error() { last_error.clear(); }

}  // namespace mplug

extern "C" const char *mplug_last_error(void) { return last_error.c_str(); }
