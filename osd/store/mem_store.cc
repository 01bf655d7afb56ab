#include "osd/store/mem_store.h"

#include <algorithm>
#include <cstring>

namespace cairn::store {

namespace {
Status missing_collection(const CollectionId& cid) {
  return error(Errc::kNotFound, "collection " + cid.to_string() + " does not exist");
}
Status missing_object(const ObjectId& oid) {
  return error(Errc::kNotFound, "object " + oid.to_string() + " does not exist");
}
// A zero-length write or zero changes nothing, not even the size (as in BlockStore).
void write_bytes(std::string& data, uint64_t off, const char* src, uint64_t len) {
  if (len == 0) return;
  if (data.size() < off + len) data.resize(off + len, '\0');
  if (src) {
    std::memcpy(data.data() + off, src, len);
  } else {
    std::memset(data.data() + off, 0, len);
  }
}
}  // namespace

// One transaction's changes, applied over the published state and published whole.
class MemStore::Staging {
 public:
  explicit Staging(std::map<CollectionId, Collection>& colls) : colls_(colls) {}

  Status apply(const Transaction::Op& op);
  void publish();

 private:
  using Key = std::pair<CollectionId, ObjectId>;
  bool coll_exists(const CollectionId& cid) const;
  ObjectRef get(const CollectionId& cid, const ObjectId& oid) const;
  // A private copy to modify; creates the object when `create` (else kNotFound).
  Result<Object*> mut(const CollectionId& cid, const ObjectId& oid, bool create);
  Status remove_collection(const CollectionId& cid);
  Status apply_data(const Transaction::Op& op);
  Status apply_omap(const Transaction::Op& op, Object& o);

  std::map<CollectionId, Collection>& colls_;
  std::map<CollectionId, bool> staged_colls_;      // true: exists after the txn
  std::map<Key, std::shared_ptr<Object>> staged_;  // null: removed
};

bool MemStore::Staging::coll_exists(const CollectionId& cid) const {
  auto s = staged_colls_.find(cid);
  if (s != staged_colls_.end()) return s->second;
  return colls_.count(cid) > 0;
}

MemStore::ObjectRef MemStore::Staging::get(const CollectionId& cid, const ObjectId& oid) const {
  auto s = staged_.find(Key{cid, oid});
  if (s != staged_.end()) return s->second;
  auto c = colls_.find(cid);
  if (c == colls_.end() || (staged_colls_.count(cid) && !staged_colls_.at(cid))) return nullptr;
  auto o = c->second.find(oid);
  return o == c->second.end() ? nullptr : o->second;
}

Result<MemStore::Object*> MemStore::Staging::mut(const CollectionId& cid, const ObjectId& oid, bool create) {
  if (!coll_exists(cid)) return missing_collection(cid);
  auto s = staged_.find(Key{cid, oid});
  if (s != staged_.end() && s->second) return s->second.get();
  ObjectRef cur = get(cid, oid);
  if (!cur && !create) return missing_object(oid);
  auto copy = cur ? std::make_shared<Object>(*cur) : std::make_shared<Object>();
  Object* p = copy.get();
  staged_[Key{cid, oid}] = std::move(copy);
  return p;
}

Status MemStore::Staging::remove_collection(const CollectionId& cid) {
  if (!coll_exists(cid)) return missing_collection(cid);
  for (auto it = staged_.lower_bound(Key{cid, ObjectId::min()});
       it != staged_.end() && it->first.first == cid; ++it) {
    if (it->second) return error(Errc::kBusy, "collection " + cid.to_string() + " is not empty");
  }
  auto c = colls_.find(cid);
  if (c != colls_.end()) {
    for (const auto& [oid, obj] : c->second) {
      auto s = staged_.find(Key{cid, oid});
      if (s == staged_.end()) return error(Errc::kBusy, "collection " + cid.to_string() + " is not empty");
    }
  }
  staged_colls_[cid] = false;
  return ok_status();
}

Status MemStore::Staging::apply_data(const Transaction::Op& op) {
  CAIRN_ASSIGN_OR_RETURN(Object * o, mut(op.cid, op.oid, true));
  switch (op.type) {
    case Transaction::OpType::kWrite: {
      BufferPtr flat = op.data.contiguous();
      write_bytes(o->data, op.off, flat.data(), flat.size());
      break;
    }
    case Transaction::OpType::kZero: write_bytes(o->data, op.off, nullptr, op.len); break;
    case Transaction::OpType::kTruncate: o->data.resize(op.off, '\0'); break;
    default: break;  // touch
  }
  return ok_status();
}

Status MemStore::Staging::apply_omap(const Transaction::Op& op, Object& o) {
  switch (op.type) {
    case Transaction::OpType::kOmapSetKeys:
      for (const auto& [k, v] : op.kvs) o.omap[k] = v;
      break;
    case Transaction::OpType::kOmapRmKeys:
      for (const auto& k : op.keys) o.omap.erase(k);
      break;
    case Transaction::OpType::kOmapRmRange: {
      if (op.keys.size() != 2) return error(Errc::kInvalid, "omap_rmrange needs [first, last)");
      if (op.keys[0] >= op.keys[1]) break;
      o.omap.erase(o.omap.lower_bound(op.keys[0]), o.omap.lower_bound(op.keys[1]));
      break;
    }
    case Transaction::OpType::kOmapClear:
      o.omap.clear();
      o.omap_header.clear();
      break;
    case Transaction::OpType::kOmapSetHeader: o.omap_header = op.data; break;
    default: break;
  }
  return ok_status();
}

Status MemStore::Staging::apply(const Transaction::Op& op) {
  using T = Transaction::OpType;
  switch (op.type) {
    case T::kCreateCollection:
      if (coll_exists(op.cid)) return error(Errc::kExists, "collection " + op.cid.to_string() + " exists");
      staged_colls_[op.cid] = true;
      return ok_status();
    case T::kRemoveCollection: return remove_collection(op.cid);
    case T::kTouch:
    case T::kWrite:
    case T::kZero:
    case T::kTruncate: return apply_data(op);
    case T::kRemove: {
      if (!coll_exists(op.cid)) return missing_collection(op.cid);
      if (!get(op.cid, op.oid)) return missing_object(op.oid);
      staged_[Key{op.cid, op.oid}] = nullptr;
      return ok_status();
    }
    case T::kSetAttrs: {
      CAIRN_ASSIGN_OR_RETURN(Object * o, mut(op.cid, op.oid, false));
      for (const auto& [k, v] : op.kvs) o->xattrs[k] = v;
      return ok_status();
    }
    case T::kRmAttr: {
      CAIRN_ASSIGN_OR_RETURN(Object * o, mut(op.cid, op.oid, false));
      if (op.keys.empty() || o->xattrs.erase(op.keys[0]) == 0) return error(Errc::kNotFound, "no such xattr");
      return ok_status();
    }
    case T::kOmapSetKeys:
    case T::kOmapRmKeys:
    case T::kOmapRmRange:
    case T::kOmapClear:
    case T::kOmapSetHeader: {
      CAIRN_ASSIGN_OR_RETURN(Object * o, mut(op.cid, op.oid, false));
      return apply_omap(op, *o);
    }
    case T::kClone:
    case T::kMove: {
      if (!coll_exists(op.cid)) return missing_collection(op.cid);
      if (!coll_exists(op.dst_cid)) return missing_collection(op.dst_cid);
      ObjectRef src = get(op.cid, op.oid);
      if (!src) return missing_object(op.oid);
      if (op.type == T::kMove && get(op.dst_cid, op.dst_oid)) {
        return error(Errc::kExists, "move target " + op.dst_oid.to_string() + " exists");
      }
      if (op.cid == op.dst_cid && op.oid == op.dst_oid) return ok_status();
      staged_[Key{op.dst_cid, op.dst_oid}] = std::make_shared<Object>(*src);
      if (op.type == T::kMove) staged_[Key{op.cid, op.oid}] = nullptr;
      return ok_status();
    }
  }
  return error(Errc::kInvalid, "unknown transaction op");
}

void MemStore::Staging::publish() {
  for (const auto& [cid, exists] : staged_colls_) {
    if (exists) {
      colls_[cid];
    } else {
      colls_.erase(cid);
    }
  }
  for (auto& [key, obj] : staged_) {
    auto c = colls_.find(key.first);
    if (c == colls_.end()) continue;  // removed with its collection (it was empty)
    if (obj) {
      c->second[key.second] = std::move(obj);
    } else {
      c->second.erase(key.second);
    }
  }
}

void MemStore::queue_transaction(const CollectionId&, Transaction txn, CommitCallback on_commit) {
  Status st;
  {
    std::lock_guard lock(mu_);
    Staging staging(colls_);
    for (const auto& op : txn.ops()) {
      st = staging.apply(op);
      if (!st.ok()) break;
    }
    if (st.ok()) staging.publish();
  }
  if (on_commit) on_commit(std::move(st));
}

Result<MemStore::ObjectRef> MemStore::find(const CollectionId& cid, const ObjectId& oid) {
  auto c = colls_.find(cid);
  if (c == colls_.end()) return missing_collection(cid);
  auto o = c->second.find(oid);
  if (o == c->second.end()) return missing_object(oid);
  return o->second;
}

bool MemStore::collection_exists(const CollectionId& cid) {
  std::lock_guard lock(mu_);
  return colls_.count(cid) > 0;
}

Result<std::vector<CollectionId>> MemStore::list_collections() {
  std::lock_guard lock(mu_);
  std::vector<CollectionId> out;
  for (const auto& [cid, c] : colls_) out.push_back(cid);
  return out;
}

Result<ObjectPage> MemStore::list_objects(const CollectionId& cid, const ObjectId& start, size_t max) {
  std::lock_guard lock(mu_);
  auto c = colls_.find(cid);
  if (c == colls_.end()) return missing_collection(cid);
  ObjectPage page;
  for (auto it = c->second.lower_bound(start); it != c->second.end(); ++it) {
    if (page.objects.size() >= max) {
      page.next = it->first;
      break;
    }
    page.objects.push_back(it->first);
  }
  return page;
}

Result<ObjectStat> MemStore::stat(const CollectionId& cid, const ObjectId& oid) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  return ObjectStat{o->data.size()};
}

Result<BufferList> MemStore::read(const CollectionId& cid, const ObjectId& oid, uint64_t off, uint64_t len) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  BufferList out;
  if (off >= o->data.size()) return out;
  uint64_t n = len == 0 ? o->data.size() - off : std::min<uint64_t>(len, o->data.size() - off);
  out.append(o->data.data() + off, n);
  return out;
}

Result<BufferList> MemStore::getattr(const CollectionId& cid, const ObjectId& oid, const std::string& name) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  auto it = o->xattrs.find(name);
  if (it == o->xattrs.end()) return error(Errc::kNotFound, "no xattr " + name);
  return it->second;
}

Result<AttrMap> MemStore::getattrs(const CollectionId& cid, const ObjectId& oid) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  return o->xattrs;
}

Result<BufferList> MemStore::omap_get_header(const CollectionId& cid, const ObjectId& oid) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  return o->omap_header;
}

Result<AttrMap> MemStore::omap_get_values(const CollectionId& cid, const ObjectId& oid,
                                          const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  AttrMap out;
  for (const auto& k : keys) {
    auto it = o->omap.find(k);
    if (it != o->omap.end()) out[k] = it->second;
  }
  return out;
}

Result<OmapPage> MemStore::omap_list(const CollectionId& cid, const ObjectId& oid, const std::string& start,
                                     size_t max) {
  std::lock_guard lock(mu_);
  CAIRN_ASSIGN_OR_RETURN(ObjectRef o, find(cid, oid));
  OmapPage page;
  for (auto it = o->omap.lower_bound(start); it != o->omap.end(); ++it) {
    if (page.entries.size() >= max) {
      page.more = true;
      break;
    }
    page.entries.emplace_back(it->first, it->second);
  }
  return page;
}

Result<StoreStatfs> MemStore::statfs() {
  std::lock_guard lock(mu_);
  StoreStatfs s;
  for (const auto& [cid, c] : colls_) {
    for (const auto& [oid, o] : c) s.used += o->data.size();
  }
  s.total = 1ull << 40;  // nominal: memory is not a fixed-size device
  s.available = s.total > s.used ? s.total - s.used : 0;
  return s;
}

}  // namespace cairn::store
