// The client library's pure parts: building compound ops, placing them,
// decoding replies, mapping errors and printing/parsing list cursors.
#include <gtest/gtest.h>

#include "client/internal/cluster_impl.h"
#include "client/rados.h"
#include "crush/builder.h"
#include "msg/message.h"

namespace cairn::client {
namespace {

using msg::OsdOpCode;

BufferList bl(std::string_view s) { return BufferList::copy_of(s); }

crush::OsdMap make_map() {
  crush::OsdMap m;
  m.epoch = 7;
  m.crush = *crush::build_map(crush::BuildSpec{3, 1});
  for (int32_t i = 0; i < 3; ++i)
    m.osds[i] = crush::OsdInfo{true, crush::kWeightOne, "127.0.0.1:" + std::to_string(6800 + i)};
  crush::PoolInfo p;
  p.placement = crush::Pool{3, 16, 3, crush::kRuleReplicatedHost, false};
  p.name = "data";
  m.pools[3] = p;
  m.pool_max = 3;
  EXPECT_TRUE(m.rebuild().ok());
  return m;
}

TEST(WriteOp, ConcatenatesInputsInOpOrderAndSetsTheWriteFlag) {
  WriteOp op;
  op.cmpxattr("lock", bl(""), true)
      .setxattr("lock", bl("me"))
      .write(4096, bl("abcd"))
      .omap_set({{"k", bl("v")}});
  ASSERT_EQ(op.size(), 4u);
  EXPECT_EQ(op.ops()[0].code, OsdOpCode::kCmpXattr);
  EXPECT_EQ(op.ops()[0].flags, msg::kCmpAbsentOk);
  EXPECT_EQ(op.ops()[0].indata_len, 0u);
  EXPECT_EQ(op.ops()[1].code, OsdOpCode::kSetXattr);
  EXPECT_EQ(op.ops()[1].name, "lock");
  EXPECT_EQ(op.ops()[1].indata_len, 2u);
  EXPECT_EQ(op.ops()[2].code, OsdOpCode::kWrite);
  EXPECT_EQ(op.ops()[2].off, 4096u);
  EXPECT_EQ(op.ops()[2].len, 4u);
  EXPECT_EQ(op.ops()[2].indata_len, 4u);
  EXPECT_EQ(op.ops()[3].kvs.at("k"), bl("v"));
  EXPECT_EQ(op.data(), bl("meabcd"));
  EXPECT_TRUE(op.flags() & msg::kOpFlagWrite);
}

TEST(WriteOp, EveryBuilderPicksItsCode) {
  WriteOp op;
  op.create(true)
      .write_full(bl("x"))
      .append(bl("yz"))
      .truncate(9)
      .zero(1, 2)
      .rmxattr("a")
      .omap_rm_keys({"k"})
      .omap_rm_range("a", "c")
      .omap_clear()
      .omap_set_header(bl("h"))
      .assert_version(5)
      .assert_exists()
      .remove();
  std::vector<OsdOpCode> want{OsdOpCode::kCreate,        OsdOpCode::kWriteFull,     OsdOpCode::kAppend,
                              OsdOpCode::kTruncate,      OsdOpCode::kZero,          OsdOpCode::kRmXattr,
                              OsdOpCode::kOmapRmKeys,    OsdOpCode::kOmapRmRange,   OsdOpCode::kOmapClear,
                              OsdOpCode::kOmapSetHeader, OsdOpCode::kAssertVersion, OsdOpCode::kAssertExists,
                              OsdOpCode::kRemove};
  ASSERT_EQ(op.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(op.ops()[i].code, want[i]) << i;
  EXPECT_EQ(op.ops()[0].flags, msg::kCreateExclusive);
  EXPECT_EQ(op.ops()[3].off, 9u);
  EXPECT_EQ(op.ops()[4].off, 1u);
  EXPECT_EQ(op.ops()[4].len, 2u);
  EXPECT_EQ(op.ops()[7].name, "a");
  EXPECT_EQ(op.ops()[7].name2, "c");
  EXPECT_EQ(op.ops()[10].off, 5u);
  EXPECT_EQ(op.data(), bl("xyzh"));
}

TEST(ReadOp, ReturnsTheIndexOfEachResultAndOnlyTheReadFlag) {
  ReadOp op;
  EXPECT_EQ(op.assert_exists(), 0u);
  EXPECT_EQ(op.read(10, 20), 1u);
  EXPECT_EQ(op.stat(), 2u);
  EXPECT_EQ(op.getxattr("a"), 3u);
  EXPECT_EQ(op.getxattrs(), 4u);
  EXPECT_EQ(op.omap_get_vals("after", "pre", 100), 5u);
  EXPECT_EQ(op.omap_get_by_keys({"a", "b"}), 6u);
  EXPECT_EQ(op.omap_get_header(), 7u);
  EXPECT_EQ(op.cmpxattr("v", bl("1")), 8u);
  EXPECT_EQ(op.ops()[5].name, "after");
  EXPECT_EQ(op.ops()[5].name2, "pre");
  EXPECT_EQ(op.ops()[5].len, 100u);
  EXPECT_EQ(op.ops()[6].keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(op.data(), bl("1"));
  EXPECT_EQ(op.flags(), msg::kOpFlagRead);
}

TEST(OpMsg, PlacesAnObjectByItsNameAndRoundTripsOnTheWire) {
  crush::OsdMap map = make_map();
  WriteOp op;
  op.write(0, bl("hello"));
  OpTarget t{3, "ns", "obj", std::nullopt};
  msg::OsdOpMsg m = make_op_msg(map, t, op);
  EXPECT_EQ(m.map_epoch, 7u);
  EXPECT_EQ(m.pool, 3);
  EXPECT_EQ(m.nspace, "ns");
  EXPECT_EQ(m.name, "obj");
  EXPECT_EQ(m.hash, crush::object_hash("obj"));
  EXPECT_EQ(m.pg_seed, map.object_to_pg(3, "obj").seed);
  EXPECT_LT(m.pg_seed, 16u);
  EXPECT_EQ(m.flags, msg::kOpFlagWrite);
  msg::Message wire = msg::Message::make(msg::kMsgOsdOp, m, op.data());
  auto back = wire.decode_front<msg::OsdOpMsg>();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, m);
  EXPECT_TRUE(back->validate(wire.data.size()).ok());
  auto pieces = msg::split_data(wire.data, msg::indata_lens(*back));
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0], bl("hello"));
}

TEST(OpMsg, APgWideOpNamesItsSeed) {
  crush::OsdMap map = make_map();
  ObjectOperation op;
  msg::OsdSubOp list;
  list.code = OsdOpCode::kPgList;
  list.len = 10;
  op.add(list, encode_to_buffer(msg::ObjectCursor{}));
  OpTarget t;
  t.pool = 3;
  t.pg = 11;
  msg::OsdOpMsg m = make_op_msg(map, t, op);
  EXPECT_EQ(m.pg_seed, 11u);
  EXPECT_EQ(m.hash, 11u);
  EXPECT_EQ(m.flags, msg::kOpFlagRead);
  EXPECT_TRUE(m.validate(op.data().size()).ok());
}

TEST(OpMsg, WatchAndNotifyOpsAreNeitherReadsNorWrites) {
  ObjectOperation w = watch_op(OsdOpCode::kWatch, 42);
  EXPECT_EQ(w.flags(), 0u);
  EXPECT_EQ(w.ops()[0].off, 42u);
  ObjectOperation ack = notify_ack_op(7, 42, bl("reply"));
  EXPECT_EQ(ack.ops()[0].code, OsdOpCode::kNotifyAck);
  EXPECT_EQ(ack.ops()[0].off, 7u);
  EXPECT_EQ(ack.ops()[0].len, 42u);
  EXPECT_EQ(ack.ops()[0].indata_len, 5u);
  EXPECT_EQ(ack.data(), bl("reply"));
}

// A reply as an OSD would build it: outputs concatenated in the data segment.
std::pair<msg::OsdOpReplyMsg, BufferList> reply_with(std::vector<std::pair<int32_t, BufferList>> outs) {
  msg::OsdOpReplyMsg r;
  r.version = 12;
  r.version_epoch = 3;
  BufferList data;
  for (auto& [rv, out] : outs) {
    r.results.push_back(msg::OsdSubResult{rv, static_cast<uint32_t>(out.size())});
    data.append(out);
  }
  return {r, data};
}

TEST(OpReply, SplitsOutputsAndDecodesEachKind) {
  msg::OmapOut omap;
  omap.entries = {{"a", bl("1")}, {"b", bl("2")}};
  omap.more = true;
  msg::PgListOut list;
  list.objects = {msg::ObjectCursor{1, "", "x"}};
  list.next = msg::ObjectCursor{2, "", "y"};
  msg::NotifyOut notify;
  notify.acks = {{5, bl("ok")}};
  notify.timed_out = {6};
  std::map<std::string, BufferList> xattrs{{"k", bl("v")}};
  auto [msg_reply, data] = reply_with({{0, bl("bytes")},
                                       {0, encode_to_buffer(msg::StatOut{100, 200, 300})},
                                       {0, encode_to_buffer(xattrs)},
                                       {0, encode_to_buffer(omap)},
                                       {0, encode_to_buffer(list)},
                                       {0, encode_to_buffer(notify)},
                                       {-ENOENT, {}}});
  OpReply r = make_op_reply(msg_reply, data);
  EXPECT_EQ(r.version, 12u);
  EXPECT_EQ(r.version_epoch, 3u);
  ASSERT_EQ(r.outdata.size(), 7u);
  EXPECT_EQ(*r.data(0), bl("bytes"));
  auto st = r.stat(1);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 100u);
  EXPECT_EQ(st->mtime_ns, 200u);
  EXPECT_EQ(st->version, 300u);
  EXPECT_EQ(*r.kv_map(2), xattrs);
  EXPECT_EQ(*r.omap(3), omap);
  EXPECT_EQ(*r.pg_list(4), list);
  EXPECT_EQ(*r.notify(5), notify);
  EXPECT_EQ(r.data(6).code(), Errc::kNotFound);
  EXPECT_EQ(r.sub_status(6).code(), Errc::kNotFound);
  EXPECT_EQ(r.data(7).code(), Errc::kInvalid);
  // Garbage where a struct is expected is kCorrupt, not a crash.
  EXPECT_EQ(r.stat(0).code(), Errc::kCorrupt);
}

TEST(OpReply, ToleratesADataSegmentShorterThanTheLengths) {
  auto [m, data] = reply_with({{0, bl("abc")}, {0, bl("def")}});
  OpReply r = make_op_reply(m, data.slice(0, 4));
  EXPECT_EQ(*r.data(0), bl("abc"));
  EXPECT_EQ(*r.data(1), bl("d"));
}

TEST(Errors, NegativeErrnosMapToErrc) {
  EXPECT_TRUE(status_from_errno(0).ok());
  EXPECT_EQ(status_from_errno(-ENOENT).code(), Errc::kNotFound);
  EXPECT_EQ(status_from_errno(-EEXIST).code(), Errc::kExists);
  EXPECT_EQ(status_from_errno(-ECANCELED).code(), Errc::kCanceled);
  EXPECT_EQ(status_from_errno(-ETIMEDOUT).code(), Errc::kTimedOut);
  EXPECT_EQ(status_from_errno(-ENOSPC).code(), Errc::kNoSpace);
  EXPECT_EQ(status_from_errno(-EIO).code(), Errc::kIo);
  EXPECT_EQ(status_from_errno(-ESTALE).code(), Errc::kStale);
  EXPECT_EQ(status_from_errno(-ENAMETOOLONG).code(), Errc::kNameTooLong);
  Status odd = status_from_errno(-EXDEV, "obj");
  EXPECT_EQ(odd.code(), Errc::kInternal);
  EXPECT_NE(odd.message().find("obj: errno"), std::string::npos);
  EXPECT_NE(status_from_errno(-ENOENT, "'x'").message().find("'x'"), std::string::npos);
  EXPECT_TRUE(is_retry_result(-ESTALE));
  EXPECT_TRUE(is_retry_result(-EAGAIN));
  EXPECT_FALSE(is_retry_result(-ENOENT));
  EXPECT_FALSE(is_retry_result(0));
}

TEST(ListCursor, PrintsAndParsesBack) {
  ListCursor start;
  EXPECT_EQ(*ListCursor::parse(start.to_string()), start);
  ListCursor c;
  c.pg = 12;
  c.pos = msg::ObjectCursor{0xdeadbeef, "n:s", "a:b%c\nd"};
  std::string s = c.to_string();
  EXPECT_EQ(s.find('\n'), std::string::npos);
  auto back = ListCursor::parse(s);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, c);
  ListCursor end;
  end.at_end = true;
  EXPECT_EQ(*ListCursor::parse(end.to_string()), end);
}

TEST(ListCursor, RejectsMalformedText) {
  for (const char* bad : {"", "1", "1:2", "x:2:a:b", "1:99999999999:a:b", "1:2:%zz:b", "1:2:a:%4"})
    EXPECT_EQ(ListCursor::parse(bad).code(), Errc::kInvalid) << bad;
}

}  // namespace
}  // namespace cairn::client
