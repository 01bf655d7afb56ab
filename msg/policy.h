// Connection policies (see connection.h for what each one guarantees).
// Kept apart from connection.h so wire-format code needs no Asio.
#pragma once

#include <cstdint>

namespace cairn::msg {

enum class Policy : uint8_t { kLossy = 0, kLossless = 1 };

}  // namespace cairn::msg
