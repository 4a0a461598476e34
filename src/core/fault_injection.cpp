#include "core/fault_injection.h"

#include <csignal>
#include <cstdlib>

namespace ctxext {

bool fault_requested(const std::string& point) {
  static const char* fault = std::getenv("CTXEXT_FAULT");
  return fault != nullptr && point == fault;
}

void fault_point(const std::string& point) {
  if (fault_requested(point)) std::raise(SIGKILL);
}

}  // namespace ctxext
