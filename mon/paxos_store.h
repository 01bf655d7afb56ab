// The durable state of one monitor's Paxos: the promise, the one accepted but
// uncommitted value, the committed log, and the key/value state the log builds.
//
// Every mutating call is durable when it returns (the Paxos rules depend on it:
// a promise or an accept is sent only after it is on disk), except that commit()
// may become durable only with the next durable call: the value it records was
// already accepted durably by a majority, so a lost commit is recovered. commit() stores the
// entry, applies its transactions, advances last_committed and clears the
// uncommitted slot in one atomic step.
//
// Thread-safety: owned by the monitor's Paxos thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "mon/paxos_types.h"

namespace cairn::mon {

class PaxosStore {
 public:
  virtual ~PaxosStore() = default;

  virtual uint64_t promised_pn() const = 0;
  virtual Status set_promised_pn(uint64_t pn) = 0;
  virtual std::optional<Uncommitted> uncommitted() const = 0;
  virtual Status set_uncommitted(const Uncommitted& u) = 0;

  // Versions [first_committed, last_committed] are in the log (empty when last == 0).
  virtual uint64_t first_committed() const = 0;
  virtual uint64_t last_committed() const = 0;
  // Requires version == last_committed() + 1 and `value` an encoded PaxosValue.
  virtual Status commit(uint64_t version, const std::string& value) = 0;
  virtual Result<std::string> entry(uint64_t version) const = 0;
  // Drops log entries below `keep_from` (the state keeps their effect).
  virtual Status trim(uint64_t keep_from) = 0;

  virtual Snapshot snapshot() const = 0;
  // Replaces the whole state and log position with `s` (log becomes empty).
  virtual Status install_snapshot(const Snapshot& s) = 0;

  // The state the log built.
  virtual std::optional<std::string> get(const std::string& key) const = 0;
  virtual std::map<std::string, std::string> scan(const std::string& prefix) const = 0;
};

// In memory, for tests and the simulator. Survives "restarts" of a Paxos object
// because the test keeps the store and builds a new Paxos on it.
std::unique_ptr<PaxosStore> make_mem_paxos_store();

// RocksDB at `path` (created if absent). Each mutation is one synced write batch.
Result<std::unique_ptr<PaxosStore>> open_rocks_paxos_store(const std::string& path);

// Applies an encoded PaxosValue to a key/value map (shared by both stores).
Status apply_value(const std::string& value, std::map<std::string, std::string>& kv);

}  // namespace cairn::mon
