#include "common/status.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

Result<int> half(int x) {
  if (x % 2) return Status(Errc::kInvalid, "odd");
  return x / 2;
}

Result<int> quarter(int x) {
  CAIRN_ASSIGN_OR_RETURN(int h, half(x));
  CAIRN_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

Status check_even(int x) {
  CAIRN_RETURN_IF_ERROR(half(x).status());
  return {};
}

TEST(Status, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.err(), 0);
  Status e(Errc::kNotFound, "no such object");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.err(), ENOENT);
  EXPECT_EQ(e.to_string(), "ENOENT: no such object");
  EXPECT_EQ(e.with_context("read foo").message(), "read foo: no such object");
  EXPECT_TRUE(e == Errc::kNotFound);
}

TEST(Result, ValueAndErrorPropagation) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::kInvalid);
  EXPECT_EQ(r.status().message(), "odd");
  EXPECT_EQ(check_even(3).code(), Errc::kInvalid);
  EXPECT_TRUE(check_even(4).ok());
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(Result, OkStatusIsNotAValue) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::kInternal);
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace cairn
