#include "core/fault_injection.h"

#include <csignal>
#include <cstdlib>

namespace ctxext {

void fault_point(const std::string& point) {
  static const char* fault = std::getenv("CTXEXT_FAULT");
  if (fault != nullptr && point == fault) std::raise(SIGKILL);
}

}  // namespace ctxext
