// TxnBuilder: prepares one Transaction for the BlockStore. Runs on the caller of
// queue_transaction with the store's mu_ held, so it sees every transaction
// prepared before it. It stages all changes on the side; finish() publishes
// them into the store's "latest" view and returns the PreparedTxn, abort()
// gives back what it allocated. Nothing is visible to readers until commit.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "osd/store/internal/block_store_impl.h"
#include "osd/store/internal/omap_stage.h"

namespace cairn::store {

// A block-aligned write's data in an aligned buffer with its block crcs, built
// before the store's lock is taken (copying and checksumming large writes is
// the bulk of prepare's CPU and needs no store state).
struct PrebuiltWrite {
  BufferPtr buf;
  std::vector<uint32_t> crcs;
};
// Nullopt unless `op` is a write of whole blocks.
std::optional<PrebuiltWrite> prebuild_write(const Transaction::Op& op);

class TxnBuilder {
 public:
  TxnBuilder(BlockStoreImpl& store, uint64_t seq)
      : s_(store), txn_(std::make_unique<PreparedTxn>()), omap_(txn_->batch) {
    txn_->seq = seq;
  }

  // `pre`: prebuild_write(op), when it had one.
  Status apply(const Transaction::Op& op, const PrebuiltWrite* pre = nullptr);
  std::unique_ptr<PreparedTxn> finish();
  void abort();

 private:
  // The staged onode to modify (a private copy); creates it when `create`.
  Result<Onode*> mut(const CollectionId& cid, const ObjectId& oid, bool create);
  Result<OnodeRef> get(const std::string& key);
  bool coll_exists(const CollectionId& cid) const;
  Result<BufferPtr> block_content(uint64_t dev_block, uint32_t crc);

  Status apply_collection(const Transaction::Op& op);
  Status apply_data(const Transaction::Op& op, const PrebuiltWrite* pre);
  Status apply_omap(const Transaction::Op& op);
  Status apply_remove(const std::string& key, Onode& o);
  Status apply_clone(const Transaction::Op& op);
  Status apply_move(const Transaction::Op& op);

  // Writes [off, off+len) of `o` (src == nullptr writes zeros): deferred in place
  // when small and already allocated, else to freshly allocated blocks.
  Status write_range(Onode& o, uint64_t off, const BufferList* src, uint64_t len);
  // Whole blocks [b0, b0 + buf.size() / 4 KiB) with their crcs.
  Status write_blocks(Onode& o, uint64_t b0, const BufferPtr& buf, const std::vector<uint32_t>& crcs);
  Status fill_block(const Onode& o, uint64_t lblock, char* dst);
  Status write_deferred(Onode& o, uint64_t b0, const BufferPtr& buf, const std::vector<uint32_t>& crcs);
  Status write_new(Onode& o, uint64_t b0, const BufferPtr& buf, const std::vector<uint32_t>& crcs);
  void zero_range(Onode& o, uint64_t off, uint64_t len, Status& st);
  // Puts the extent map where the onode's size says (inline or in shards, only the
  // changed ones) into the batch, and records the stored form in `o`.
  void store_extents(Onode& o);

  BlockStoreImpl& s_;
  std::unique_ptr<PreparedTxn> txn_;
  OmapStage omap_;                                        // writes into txn_->batch
  std::map<std::string, std::shared_ptr<Onode>> staged_;  // null: removed
  std::map<CollectionId, bool> colls_;
  std::map<uint64_t, BufferPtr> written_;  // device block -> contents this txn wrote
  std::vector<DevExtent> allocated_;
  bool nid_used_ = false;
};

}  // namespace cairn::store
