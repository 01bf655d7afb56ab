// The 100 x 10 stability checks with more inputs (sampling noise < 2%): label slow.
#include "tests/crush/add_osd_check.h"

namespace cairn::crush {
namespace {

using testing::check_add;

TEST(CrushStabilitySlow, AddOsdHostFailureDomain100x10) {
  check_add({"100x10 host domain", 100, 10, 2000000, kRuleReplicatedHost, 1.0 / 1001});
}

TEST(CrushStabilitySlow, AddOsdOsdFailureDomain100x10) {
  check_add({"100x10 osd domain", 100, 10, 2000000, kRuleReplicatedOsd, 1.0 / 1001});
}

}  // namespace
}  // namespace cairn::crush
