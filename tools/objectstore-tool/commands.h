// cairn-objectstore-tool commands: each works on a BlockStore that no OSD has
// mounted (the tool mounts it itself). Each returns the process exit code:
// 0 success, 1 the command ran and found a problem (fsck errors), 2 usage or
// store error.
#pragma once

#include <string>
#include <vector>

#include "osd/store/block_store.h"

namespace cairn::tool {

int cmd_mkfs(const store::BlockStoreOptions& opts);
int cmd_fsck(const store::BlockStoreOptions& opts, bool deep);
int cmd_list(const store::BlockStoreOptions& opts, const std::vector<std::string>& args);
int cmd_dump_object(const store::BlockStoreOptions& opts, const std::vector<std::string>& args);
int cmd_export(const store::BlockStoreOptions& opts, const std::vector<std::string>& args);
int cmd_import(const store::BlockStoreOptions& opts, const std::vector<std::string>& args);

// Parses what ObjectId::to_string prints: "<hash hex8>:[<nspace>/]<name>[@<snap>]".
Result<store::ObjectId> parse_object_id(const std::string& text);

}  // namespace cairn::tool
