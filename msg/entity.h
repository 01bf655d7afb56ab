// Entity names and addresses: who a peer is (`osd.3`) and where (`127.0.0.1:6800`).
//
//   EntityName  type + id          "osd.3", "mon.a", "client.admin"
//   EntityAddr  IPv4/IPv6 host + port  "127.0.0.1:6800", "[::1]:6800"
//   EntityInst  name@addr          "osd.3@127.0.0.1:6800"
//
// Parsing never trusts its input: anything malformed is kInvalid.
// Thread-safety: values.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/encoding.h"
#include "common/status.h"

namespace cairn::msg {

enum class EntityType : uint8_t { kUnknown = 0, kMon = 1, kOsd = 2, kMds = 3, kClient = 4, kGw = 5 };

std::string_view entity_type_name(EntityType t);
// False for an unknown name.
bool parse_entity_type(std::string_view s, EntityType& out);

// Longest id we accept ("admin", "a", "3", a client's nonce...): names are short.
inline constexpr size_t kMaxEntityIdLength = 64;

struct EntityName {
  EntityType type = EntityType::kUnknown;
  std::string id;

  static Result<EntityName> parse(std::string_view s);
  std::string to_string() const;
  bool empty() const { return type == EntityType::kUnknown; }

  void encode(Encoder& e) const;
  void decode(Decoder& d);
  auto operator<=>(const EntityName&) const = default;
};

struct EntityAddr {
  std::string host;  // numeric IPv4 or IPv6 (no brackets); names are not resolved here
  uint16_t port = 0;

  // "127.0.0.1:6800", "[::1]:6800".
  static Result<EntityAddr> parse(std::string_view s);
  std::string to_string() const;
  bool empty() const { return host.empty(); }

  void encode(Encoder& e) const;
  void decode(Decoder& d);
  auto operator<=>(const EntityAddr&) const = default;
};

struct EntityInst {
  EntityName name;
  EntityAddr addr;

  // "osd.3@127.0.0.1:6800".
  static Result<EntityInst> parse(std::string_view s);
  std::string to_string() const;

  auto operator<=>(const EntityInst&) const = default;
};

}  // namespace cairn::msg
