#include "msg/entity.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace cairn::msg {
namespace {

constexpr std::array<std::pair<EntityType, std::string_view>, 5> kTypeNames = {{
    {EntityType::kMon, "mon"},
    {EntityType::kOsd, "osd"},
    {EntityType::kMds, "mds"},
    {EntityType::kClient, "client"},
    {EntityType::kGw, "gw"},
}};

bool valid_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool is_numeric_ip(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

std::string_view entity_type_name(EntityType t) {
  for (const auto& [type, name] : kTypeNames) {
    if (type == t) return name;
  }
  return "unknown";
}

bool parse_entity_type(std::string_view s, EntityType& out) {
  for (const auto& [type, name] : kTypeNames) {
    if (name == s) {
      out = type;
      return true;
    }
  }
  return false;
}

Result<EntityName> EntityName::parse(std::string_view s) {
  size_t dot = s.find('.');
  if (dot == std::string_view::npos)
    return Status(Errc::kInvalid, "entity name without '.': " + std::string(s));
  EntityName n;
  if (!parse_entity_type(s.substr(0, dot), n.type)) {
    return Status(Errc::kInvalid, "unknown entity type in: " + std::string(s));
  }
  std::string_view id = s.substr(dot + 1);
  if (id.empty() || id.size() > kMaxEntityIdLength) {
    return Status(Errc::kInvalid, "entity id empty or too long in: " + std::string(s));
  }
  for (char c : id) {
    if (!valid_id_char(c)) return Status(Errc::kInvalid, "bad character in entity id: " + std::string(s));
  }
  n.id = std::string(id);
  return n;
}

std::string EntityName::to_string() const { return std::string(entity_type_name(type)) + "." + id; }

void EntityName::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.u8(static_cast<uint8_t>(type));
  e.str(id);
  e.end_struct(m);
}

void EntityName::decode(Decoder& d) {
  auto s = d.begin_struct(1, "EntityName");
  type = static_cast<EntityType>(d.u8());
  id = d.str();
  if (id.size() > kMaxEntityIdLength) d.fail("entity id too long");
  d.end_struct(s);
}

Result<EntityAddr> EntityAddr::parse(std::string_view s) {
  std::string_view host, port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return Status(Errc::kInvalid, "bad IPv6 address: " + std::string(s));
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos)
      return Status(Errc::kInvalid, "address without port: " + std::string(s));
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  EntityAddr a;
  a.host = std::string(host);
  if (a.host.empty() || !is_numeric_ip(a.host)) {
    return Status(Errc::kInvalid, "host is not a numeric IP address: " + std::string(s));
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return Status(Errc::kInvalid, "bad port in address: " + std::string(s));
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

std::string EntityAddr::to_string() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

void EntityAddr::encode(Encoder& e) const {
  auto m = e.begin_struct(1, 1);
  e.str(host);
  e.u16(port);
  e.end_struct(m);
}

void EntityAddr::decode(Decoder& d) {
  auto s = d.begin_struct(1, "EntityAddr");
  host = d.str();
  port = d.u16();
  if (host.size() > 64) d.fail("address host too long");
  d.end_struct(s);
}

Result<EntityInst> EntityInst::parse(std::string_view s) {
  size_t at = s.find('@');
  if (at == std::string_view::npos)
    return Status(Errc::kInvalid, "entity instance without '@': " + std::string(s));
  EntityInst inst;
  CAIRN_ASSIGN_OR_RETURN(inst.name, EntityName::parse(s.substr(0, at)));
  CAIRN_ASSIGN_OR_RETURN(inst.addr, EntityAddr::parse(s.substr(at + 1)));
  return inst;
}

std::string EntityInst::to_string() const { return name.to_string() + "@" + addr.to_string(); }

}  // namespace cairn::msg
