// The client library and `cairn rados` against a real local cluster (one
// monitor, three OSDs, started by `cairn cluster up` in a temporary directory):
// object data, xattrs, omap, compound ops with guards, listing, watch/notify,
// aio, and the CLI.
//
// CAIRN_TEST_MON_HOST=H:P runs the tests against an already running cluster
// instead; CAIRN_TEST_BIN_DIR overrides where cairn, cairn-mon and cairn-osd are.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "client/rados.h"
#include "mon_cluster.h"

namespace cairn::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::CommandOutput;
using test::run_process;

BufferList bl(std::string_view s) { return BufferList::copy_of(s); }

std::string bins() {
  const char* b = std::getenv("CAIRN_TEST_BIN_DIR");
  return b && *b ? b : test::bin_dir();
}

class RadosIntegration : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    const char* existing = std::getenv("CAIRN_TEST_MON_HOST");
    if (existing && *existing) {
      mon_host_ = existing;
    } else {
      char tmpl[] = "/tmp/cairn-rados-test-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl), nullptr);
      root_ = tmpl;
      CommandOutput out;
      for (int attempt = 0; attempt < 5; ++attempt) {
        uint16_t port = test::free_ports(1)[0];
        if (port < 1024 || port > 64000) continue;
        out = run_process(
            {bins() + "/cairn", "cluster", "up", "--dir", root_ + "/cluster", "--mons", "1", "--osds", "3",
             "--port", std::to_string(port), "--bin-dir", bins(), "--osd-size", "512M", "--timeout", "120s"},
            180s);
        if (out.exit_code == 0) {
          mon_host_ = "127.0.0.1:" + std::to_string(port);
          break;
        }
        // Ports are checked before use but may be taken in between by another test's
        // connections (its metrics ports sit in the ephemeral range): clean up, try others.
        run_process({bins() + "/cairn", "cluster", "down", "--dir", root_ + "/cluster"}, 60s);
        std::system(("rm -rf " + root_ + "/cluster").c_str());
      }
      ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
    }
    ClusterOptions o;
    o.mon_host = mon_host_;
    o.op_timeout = 60s;
    auto c = Cluster::connect(o);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    cluster_ = c->release();
    pool_ = "rados-it-" + std::to_string(getpid());
    ASSERT_TRUE(cluster_->pool_create(pool_, 8, 3).ok());
  }

  static void TearDownTestSuite() {
    if (cluster_) {
      (void)cluster_->pool_delete(pool_);
      delete cluster_;
      cluster_ = nullptr;
    }
    if (!root_.empty()) {
      run_process({bins() + "/cairn", "cluster", "down", "--dir", root_ + "/cluster"}, 60s);
      std::error_code ec;
      fs::remove_all(root_, ec);
    }
  }

 protected:
  IoCtx io() {
    auto r = cluster_->io_ctx(pool_);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return *r;
  }
  CommandOutput cli(std::vector<std::string> words) {
    std::vector<std::string> argv{bins() + "/cairn", "--mon-host", mon_host_, "--timeout", "60s",
                                  "rados",           "-p",         pool_};
    argv.insert(argv.end(), words.begin(), words.end());
    return run_process(argv, 90s);
  }

  static inline std::string root_;
  static inline std::string mon_host_;
  static inline std::string pool_;
  static inline Cluster* cluster_ = nullptr;
};

TEST_F(RadosIntegration, DataRoundTrips) {
  IoCtx p = io();
  ASSERT_TRUE(p.write_full("data", bl("hello world")).ok());
  EXPECT_EQ(*p.read("data", 0, 0), bl("hello world"));
  EXPECT_EQ(*p.read("data", 6, 5), bl("world"));
  ASSERT_TRUE(p.write("data", 6, bl("cairn")).ok());
  ASSERT_TRUE(p.append("data", bl("!")).ok());
  EXPECT_EQ(*p.read("data", 0, 0), bl("hello cairn!"));
  auto st = p.stat("data");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 12u);
  ASSERT_TRUE(p.zero("data", 0, 5).ok());
  EXPECT_EQ(*p.read("data", 0, 6), bl(std::string(5, '\0') + " "));
  ASSERT_TRUE(p.truncate("data", 3).ok());
  EXPECT_EQ(p.stat("data")->size, 3u);
  ASSERT_TRUE(p.remove("data").ok());
  EXPECT_EQ(p.stat("data").code(), Errc::kNotFound);
  EXPECT_EQ(p.read("data", 0, 0).code(), Errc::kNotFound);
  EXPECT_EQ(p.remove("data").code(), Errc::kNotFound);
}

TEST_F(RadosIntegration, LargeObjectsKeepEveryByte) {
  IoCtx p = io();
  std::string big(3u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 12));
  ASSERT_TRUE(p.write_full("big", bl(big)).ok());
  auto r = p.read("big", 0, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r == std::string_view(big));
  EXPECT_TRUE(*p.read("big", 1000000, 4096) == std::string_view(big).substr(1000000, 4096));
  ASSERT_TRUE(p.remove("big").ok());
}

TEST_F(RadosIntegration, CreateIsExclusiveOnRequest) {
  IoCtx p = io();
  ASSERT_TRUE(p.create("c", true).ok());
  EXPECT_EQ(p.create("c", true).code(), Errc::kExists);
  EXPECT_TRUE(p.create("c", false).ok());
  EXPECT_EQ(p.stat("c")->size, 0u);
  ASSERT_TRUE(p.remove("c").ok());
}

TEST_F(RadosIntegration, Xattrs) {
  IoCtx p = io();
  ASSERT_TRUE(p.setxattr("x", "a", bl("1")).ok());
  ASSERT_TRUE(p.setxattr("x", "b", bl("22")).ok());
  EXPECT_EQ(*p.getxattr("x", "b"), bl("22"));
  auto all = p.getxattrs("x");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  ASSERT_TRUE(p.rmxattr("x", "a").ok());
  EXPECT_EQ(p.getxattr("x", "a").code(), Errc::kNotFound);
  ASSERT_TRUE(p.remove("x").ok());
}

TEST_F(RadosIntegration, Omap) {
  IoCtx p = io();
  std::map<std::string, BufferList> kvs;
  for (int i = 0; i < 20; ++i) kvs["k" + std::to_string(100 + i)] = bl("v" + std::to_string(i));
  kvs["other"] = bl("o");
  ASSERT_TRUE(p.omap_set("m", kvs).ok());
  // Paged: 8 at a time after a start key, prefix filtered.
  std::vector<std::string> keys;
  std::string after;
  while (true) {
    auto page = p.omap_get_vals("m", after, "k", 8);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    EXPECT_LE(page->entries.size(), 8u);
    for (auto& [k, v] : page->entries) keys.push_back(k);
    if (!page->more) break;
    ASSERT_FALSE(page->entries.empty());
    after = page->entries.back().first;
  }
  EXPECT_EQ(keys.size(), 20u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  auto some = p.omap_get_by_keys("m", {"k105", "nope"});
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 1u);
  EXPECT_EQ(some->at("k105"), bl("v5"));
  ASSERT_TRUE(p.omap_rm_keys("m", {"k105"}).ok());
  EXPECT_TRUE(p.omap_get_by_keys("m", {"k105"})->empty());
  ASSERT_TRUE(p.omap_set_header("m", bl("head")).ok());
  EXPECT_EQ(*p.omap_get_header("m"), bl("head"));
  ASSERT_TRUE(p.omap_clear("m").ok());
  EXPECT_TRUE(p.omap_get_vals("m", "", "", 100)->entries.empty());
  ASSERT_TRUE(p.remove("m").ok());
}

TEST_F(RadosIntegration, CompoundOpsAreAtomicAndGuarded) {
  IoCtx p = io();
  WriteOp init;
  init.create(true).setxattr("ver", bl("1")).write_full(bl("one")).omap_set({{"state", bl("a")}});
  ASSERT_TRUE(p.operate("g", init).ok());

  // A failing guard applies nothing.
  WriteOp bad;
  bad.cmpxattr("ver", bl("2")).write_full(bl("two")).setxattr("ver", bl("3"));
  EXPECT_EQ(p.operate("g", bad).code(), Errc::kCanceled);
  EXPECT_EQ(*p.read("g", 0, 0), bl("one"));
  EXPECT_EQ(*p.getxattr("g", "ver"), bl("1"));

  WriteOp good;
  good.cmpxattr("ver", bl("1")).write_full(bl("two")).setxattr("ver", bl("2"));
  ASSERT_TRUE(p.operate("g", good).ok());

  ReadOp r;
  size_t data = r.read(0, 0);
  size_t stat = r.stat();
  size_t ver = r.getxattr("ver");
  size_t omap = r.omap_get_vals("", "", 10);
  auto reply = p.operate("g", r);
  ASSERT_TRUE(reply.ok()) << reply.status().to_string();
  EXPECT_EQ(*reply->data(data), bl("two"));
  EXPECT_EQ(reply->stat(stat)->size, 3u);
  EXPECT_EQ(*reply->data(ver), bl("2"));
  EXPECT_EQ(reply->omap(omap)->entries.size(), 1u);

  uint64_t v = reply->stat(stat)->version;
  WriteOp stale;
  stale.assert_version(v + 100).remove();
  EXPECT_EQ(p.operate("g", stale).code(), Errc::kCanceled);
  WriteOp current;
  current.assert_version(v).remove();
  EXPECT_TRUE(p.operate("g", current).ok());
  WriteOp gone;
  gone.assert_exists().write_full(bl("x"));
  EXPECT_EQ(p.operate("g", gone).code(), Errc::kCanceled);
  EXPECT_EQ(p.stat("g").code(), Errc::kNotFound);
}

TEST_F(RadosIntegration, ListsEveryObjectAcrossPgs) {
  IoCtx p = io();
  p.set_namespace("listing");
  std::set<std::string> want;
  for (int i = 0; i < 150; ++i) {
    std::string n = "obj-" + std::to_string(i);
    ASSERT_TRUE(p.write_full(n, bl("x")).ok());
    want.insert(n);
  }
  std::set<std::string> got;
  ListCursor cur;
  int pages = 0;
  while (!cur.at_end) {
    auto page = p.list_objects(cur, 32);
    ASSERT_TRUE(page.ok()) << page.status().to_string();
    EXPECT_LE(page->entries.size(), 32u);
    for (auto& e : page->entries) {
      if (e.nspace == "listing") {
        EXPECT_TRUE(got.insert(e.name).second) << "listed twice: " << e.name;
      }
    }
    cur = page->next;
    ++pages;
  }
  EXPECT_GE(pages, 5);
  EXPECT_EQ(got, want);
  for (const auto& n : want) ASSERT_TRUE(p.remove(n).ok());
}

TEST_F(RadosIntegration, WatchersAnswerNotifies) {
  IoCtx p = io();
  ASSERT_TRUE(p.create("w", false).ok());
  std::atomic<int> a_calls{0}, b_calls{0};
  auto a = p.watch("w", [&](uint64_t, uint64_t, const BufferList& payload) {
    ++a_calls;
    EXPECT_EQ(payload, bl("ping"));
    return bl("from-a");
  });
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  auto b = p.watch("w", [&](uint64_t, uint64_t, const BufferList&) {
    ++b_calls;
    return bl("from-b");
  });
  ASSERT_TRUE(b.ok());
  auto r = p.notify("w", bl("ping"), 5s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->acks.size(), 2u);
  EXPECT_TRUE(r->timed_out.empty());
  std::set<std::string> replies;
  for (auto& [cookie, payload] : r->acks) replies.insert(payload.to_string());
  EXPECT_EQ(replies, (std::set<std::string>{"from-a", "from-b"}));
  EXPECT_EQ(a_calls.load(), 1);
  ASSERT_TRUE(p.unwatch(*a).ok());
  auto r2 = p.notify("w", bl("ping"), 5s);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->acks.size(), 1u);
  EXPECT_EQ(a_calls.load(), 1);
  EXPECT_EQ(b_calls.load(), 2);
  ASSERT_TRUE(p.unwatch(*b).ok());
  ASSERT_TRUE(p.remove("w").ok());
}

TEST_F(RadosIntegration, ManyAioOpsComplete) {
  IoCtx p = io();
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, failed = 0;
  const int n = 64;
  for (int i = 0; i < n; ++i) {
    WriteOp op;
    op.write_full(bl("aio-" + std::to_string(i)));
    p.aio_operate("aio-" + std::to_string(i), op, [&](Result<OpReply> r) {
      std::lock_guard<std::mutex> l(mu);
      if (!r.ok() || r->result != 0) ++failed;
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> l(mu);
  ASSERT_TRUE(cv.wait_for(l, 60s, [&] { return done == n; }));
  EXPECT_EQ(failed, 0);
  l.unlock();
  for (int i = 0; i < n; ++i) {
    std::string name = "aio-" + std::to_string(i);
    EXPECT_EQ(*p.read(name, 0, 0), bl(name));
    ASSERT_TRUE(p.remove(name).ok());
  }
}

TEST_F(RadosIntegration, CliPutGetLsStatRm) {
  std::string dir = root_.empty() ? "/tmp" : root_;
  std::string in = dir + "/cli-in-" + std::to_string(getpid());
  std::string out = dir + "/cli-out-" + std::to_string(getpid());
  {
    std::ofstream f(in, std::ios::binary);
    f << "cli payload\n";
  }
  EXPECT_EQ(cli({"put", "cli-obj", in}).exit_code, 0);
  EXPECT_EQ(cli({"get", "cli-obj", out}).exit_code, 0);
  std::ifstream f(out, std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, "cli payload\n");
  auto ls = cli({"ls"});
  EXPECT_EQ(ls.exit_code, 0);
  EXPECT_NE(ls.out.find("cli-obj\n"), std::string::npos);
  auto st = cli({"stat", "cli-obj"});
  EXPECT_EQ(st.exit_code, 0);
  EXPECT_NE(st.out.find("size 12"), std::string::npos) << st.out;
  EXPECT_EQ(cli({"setomapval", "cli-obj", "key", "value"}).exit_code, 0);
  EXPECT_NE(cli({"listomapvals", "cli-obj"}).out.find("key\tvalue"), std::string::npos);
  EXPECT_EQ(cli({"rm", "cli-obj"}).exit_code, 0);
  EXPECT_EQ(cli({"stat", "cli-obj"}).exit_code, ENOENT);
  auto nopool =
      run_process({bins() + "/cairn", "--mon-host", mon_host_, "rados", "-p", "no-such-pool", "ls"}, 60s);
  EXPECT_EQ(nopool.exit_code, ENOENT);
  EXPECT_NE(nopool.err.find("does not exist"), std::string::npos);
  std::remove(in.c_str());
  std::remove(out.c_str());
}

TEST_F(RadosIntegration, CliBenchWritesReadsAndCleansUp) {
  auto w = cli({"bench", "2", "write", "-b", "16K", "-t", "4", "--no-cleanup"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_NE(w.out.find("Bandwidth"), std::string::npos);
  EXPECT_NE(w.out.find("p99"), std::string::npos);
  // A sequential read of everything written stops when it runs out of objects, long
  // before its 60 s: every object read once, no op started twice or lost.
  auto total = [](const std::string& out, const std::string& mode) -> long {
    auto at = out.find("Total " + mode + " ops:");
    return at == std::string::npos ? -1 : std::strtol(out.c_str() + out.find(':', at) + 1, nullptr, 10);
  };
  long written = total(w.out, "write");
  ASSERT_GT(written, 0) << w.out;
  auto seq = cli({"bench", "60", "seq", "-t", "4"});
  EXPECT_EQ(seq.exit_code, 0) << seq.err;
  EXPECT_EQ(total(seq.out, "seq read"), written) << seq.out;
  const std::string run = "Total time run:";
  auto secs = seq.out.find(run);
  ASSERT_NE(secs, std::string::npos) << seq.out;
  EXPECT_LT(std::strtod(seq.out.c_str() + secs + run.size(), nullptr), 30.0) << seq.out;
  auto rand = cli({"bench", "1", "rand", "-t", "4"});
  EXPECT_EQ(rand.exit_code, 0) << rand.err;
  EXPECT_EQ(cli({"cleanup"}).exit_code, 0);
  auto ls = cli({"ls"});
  EXPECT_EQ(ls.out.find("benchmark_"), std::string::npos);
}

}  // namespace
}  // namespace cairn::client
