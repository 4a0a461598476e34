// Precompiled header for every ctxext target (see CMakeLists.txt): the expensive, stable headers.
#pragma once
#include <torch/torch.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
