// The CRUSH map: device types, devices, a tree of typed straw2 buckets, rules.
//
// A plain value: maps compare with ==, copy freely, encode with common/encoding.h
// (encode/decode below) and print/parse as text (crush/text.h). Every map that
// leaves compile() or decode() has passed validate(): ids in range, names unique,
// the buckets form a forest (each item has at most one parent, no cycles, depth
// bounded), rules refer to existing items, types and classes.
//
// Bucket weights are not stored: a bucket weighs the sum of its children, so the
// two can never disagree. Only straw2 buckets exist (see docs/crush.md for why
// no other algorithm is needed).
//
// Thread-safety: a value; concurrent const use is safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"
#include "common/status.h"
#include "crush/rule.h"
#include "crush/types.h"

namespace cairn::crush {

struct Device {
  ItemId id = 0;
  std::string name;  // "osd.<id>" by convention
  Weight weight = 0;
  std::string device_class;  // "" when unclassified, else e.g. "hdd", "ssd"

  bool operator==(const Device&) const = default;
};

struct Bucket {
  ItemId id = -1;
  std::string name;
  uint32_t type = 1;
  std::vector<ItemId> items;  // children, devices or buckets, in declaration order

  bool operator==(const Bucket&) const = default;
};

struct Tunables {
  // Upper bound on retries of one choose step. Cairn's selection excludes chosen
  // failure domains instead of retrying (docs/crush.md), so it never needs more
  // than zero; the value is kept so maps and rules read like Ceph's.
  uint32_t choose_total_tries = 50;

  bool operator==(const Tunables&) const = default;
};

class CrushMap {
 public:
  std::map<uint32_t, std::string> types;  // type id -> name; type 0 is the device type
  std::map<ItemId, Device> devices;       // id >= 0
  std::map<ItemId, Bucket> buckets;       // id < 0
  std::map<int32_t, Rule> rules;
  Tunables tunables;

  bool operator==(const CrushMap&) const = default;

  // The default type list: osd < host < chassis < rack < row < datacenter < root.
  static std::map<uint32_t, std::string> default_types();

  const Device* device(ItemId id) const;
  const Bucket* bucket(ItemId id) const;
  bool exists(ItemId id) const { return device(id) != nullptr || bucket(id) != nullptr; }
  std::optional<ItemId> find_item(std::string_view name) const;
  std::optional<uint32_t> find_type(std::string_view name) const;
  const Rule* find_rule(std::string_view name) const;
  const Rule* rule(int32_t id) const;
  // Name of an item, or "" when it does not exist.
  std::string item_name(ItemId id) const;
  // Type of an item (kDeviceType for devices); nullopt when it does not exist.
  std::optional<uint32_t> item_type(ItemId id) const;
  // The bucket holding `id`, or nullopt for roots and unplaced devices.
  std::optional<ItemId> parent(ItemId id) const;
  // A device's weight, or the sum of a bucket's children (saturating at 0xffffffff).
  Weight weight(ItemId id) const;
  // The ancestor of `id` (or `id` itself) whose type is `type`, if any.
  std::optional<ItemId> ancestor_of_type(ItemId id, uint32_t type) const;

  ItemId next_device_id() const;
  ItemId next_bucket_id() const;

  // Editing. Each keeps the map valid or returns kInvalid/kNotFound/kExists and
  // leaves it unchanged.
  Status add_bucket(ItemId id, std::string name, uint32_t type, std::optional<ItemId> parent);
  Status add_device(ItemId id, std::string name, Weight weight, std::string device_class,
                    std::optional<ItemId> parent);
  // Removes a device from the map and from its bucket.
  Status remove_device(ItemId id);
  // Removes an empty bucket (kBusy if it holds items or a rule takes it).
  Status remove_bucket(ItemId id);
  Status set_weight(ItemId device, Weight weight);

  // Checks every structural rule listed at the top of this file.
  Status validate() const;

  void encode(Encoder& e) const;
  // Decodes and validates; a malformed or invalid map fails the decoder.
  void decode(Decoder& d);
};

}  // namespace cairn::crush
