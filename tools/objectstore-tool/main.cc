// cairn-objectstore-tool: offline inspection and repair of an OSD's BlockStore.
//
//   cairn-objectstore-tool --data DIR [--device PATH] COMMAND [ARGS]
//     mkfs --size BYTES          format (creates DIR/block as a sparse file)
//     fsck [--deep]              allocator vs extent maps; --deep also every data crc
//     list [COLL]                collections, or the objects of one in sort order
//     dump-object COLL OBJECT    onode, extents, xattrs, omap of one object
//     export COLL FILE           a collection's objects into FILE
//     import FILE                re-create an exported collection
// COLL is "<pool>.<hex seed>"; OBJECT is what `list` prints.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "common/log.h"

namespace {
int usage() {
  std::fprintf(stderr,
               "usage: cairn-objectstore-tool --data DIR [--device PATH] "
               "{mkfs --size BYTES | fsck [--deep] | list [COLL] | dump-object COLL OBJECT |\n"
               "                                 export COLL FILE | import FILE}\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  cairn::log::set_all_levels(cairn::log::Level::kWarn);
  cairn::store::BlockStoreOptions opts;
  opts.cache_bytes = 64ull << 20;
  opts.prepare_ahead_bytes = 0;  // the tool leaves the block file as it is
  std::vector<std::string> rest;
  bool deep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) {
      opts.path = argv[++i];
    } else if (a == "--device" && i + 1 < argc) {
      opts.device = argv[++i];
    } else if (a == "--size" && i + 1 < argc) {
      opts.device_bytes = std::strtoull(argv[++i], nullptr, 0);
    } else if (a == "--deep") {
      deep = true;
    } else if (a == "-h" || a == "--help") {
      return usage();
    } else {
      rest.push_back(a);
    }
  }
  if (opts.path.empty() || rest.empty()) return usage();
  std::string cmd = rest[0];
  rest.erase(rest.begin());
  if (cmd == "mkfs") return cairn::tool::cmd_mkfs(opts);
  if (cmd == "fsck") return cairn::tool::cmd_fsck(opts, deep);
  if (cmd == "list") return cairn::tool::cmd_list(opts, rest);
  if (cmd == "dump-object") return cairn::tool::cmd_dump_object(opts, rest);
  if (cmd == "export") return cairn::tool::cmd_export(opts, rest);
  if (cmd == "import") return cairn::tool::cmd_import(opts, rest);
  return usage();
}
