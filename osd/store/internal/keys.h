// The BlockStore's RocksDB key layout (docs/blockstore.md has it byte by byte).
//
// One column family; the first byte of a key names its kind:
//   'S'                              superblock copy (identity check at mount)
//   'N'                              next onode id (u64 LE value)
//   'C' coll                         a collection exists (empty value)
//   'O' coll object                  onode (encoded Onode)
//   'X' nid(8, BE) shard(4, BE)      one shard of a large object's extent map
//   'M' nid(8, BE) user-key          omap entry
//   'H' nid(8, BE)                   omap header
//   'B' group(8, BE)                 allocation bitmap of one group of blocks
//   'D' seq(8, BE)                   deferred write record
// coll   = pool (8, BE, sign bit flipped) | seed (4, BE)
// object = hash (4, BE) | esc(nspace) | esc(name) | snap (8, BE)
// esc(s) = s with each 0x00 written as 0x00 0xFF, then the terminator 0x00 0x01.
// These encodings sort bytewise exactly as CollectionId / ObjectId compare, so a
// RocksDB iterator lists objects in the ObjectStore's order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "osd/store/object_id.h"

namespace cairn::store::keys {

inline constexpr char kSuper = 'S';
inline constexpr char kNextNid = 'N';
inline constexpr char kColl = 'C';
inline constexpr char kOnode = 'O';
inline constexpr char kExtentShard = 'X';
inline constexpr char kOmap = 'M';
inline constexpr char kOmapHeader = 'H';
inline constexpr char kBitmap = 'B';
inline constexpr char kDeferred = 'D';

void append_u64_be(std::string& out, uint64_t v);
void append_u32_be(std::string& out, uint32_t v);
uint64_t read_u64_be(std::string_view in);
uint32_t read_u32_be(std::string_view in);

std::string coll_key(const CollectionId& cid);      // 'C' coll
std::string onode_prefix(const CollectionId& cid);  // 'O' coll
std::string onode_key(const CollectionId& cid, const ObjectId& oid);
std::string omap_prefix(uint64_t nid);  // 'M' nid
std::string omap_key(uint64_t nid, std::string_view user_key);
std::string omap_header_key(uint64_t nid);
std::string shard_prefix(uint64_t nid);  // 'X' nid
std::string shard_key(uint64_t nid, uint32_t shard);
std::string bitmap_key(uint64_t group);
std::string deferred_key(uint64_t seq);

Result<CollectionId> decode_coll(std::string_view in);  // the 12 bytes after the kind
// Decodes an 'O' key into its collection and object.
Status decode_onode_key(std::string_view key, CollectionId& cid, ObjectId& oid);

}  // namespace cairn::store::keys
