// cairn: the admin CLI. Cluster commands go to the monitors:
//
//   cairn [-c cairn.conf | --mon-host H:P,...] [--format json] <command words...>
//   cairn status | health [detail] | mon stat | osd tree|dump|create|out|in|down|rm|set|unset|reweight ...
//   cairn osd pool create|ls|get|set|rm ... | osd crush add-bucket|move|reweight ... | pg map|dump|stat ...
//   cairn config set|get|rm|dump ...
//
// Exit status: 0 on success, the errno of the failure otherwise (2 ENOENT, 22 EINVAL,
// 110 ETIMEDOUT, ...), with the error text on stderr.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/mon_client.h"
#include "common/asio.h"
#include "common/config.h"
#include "common/env.h"
#include "common/log.h"
#include "tools/cairn/cluster.h"
#include "tools/cairn/pg_scrub.h"
#include "tools/cairn/rados.h"

namespace {

void usage() {
  std::fputs(
      "usage: cairn [-c CONF] [--mon-host H:P,...] [--format plain|json] [--timeout 30s] <command...>\n"
      "  status                          cluster health, monitors, OSDs, pools\n"
      "  health [detail]                 HEALTH_OK / HEALTH_WARN / HEALTH_ERR and why\n"
      "  mon stat                        monitors, leader, quorum\n"
      "  osd tree|dump|stat              the OSD map\n"
      "  osd create [ID] | rm|out|in|down ID... | reweight ID W | set|unset noup|nodown|noout|full\n"
      "  osd crush add-bucket NAME TYPE | move ITEM TYPE=BUCKET | reweight osd.N W\n"
      "  osd pool create NAME [PG_NUM] [--size N] [--min-size N] [--rule R]\n"
      "  osd pool ls | get NAME [FIELD] | set NAME size|min_size|pg_num V\n"
      "  osd pool rm NAME NAME --yes-i-really-really-mean-it\n"
      "  pg map POOL OBJECT | pg dump | pg stat\n"
      "  pg scrub|deep-scrub|repair|list-inconsistent PGID   compare (and mend) a PG's copies\n"
      "  config set|get|rm|dump ...\n"
      "  cluster up|down|status ...      a local cluster on 127.0.0.1 (cairn cluster --help)\n"
      "  rados -p POOL put|get|ls|...    object I/O and bench (cairn rados help)\n",
      stderr);
}

// Splits the command line: our own options (before or after the words) and the command words.
struct Cli {
  std::string conf, mon_host, format = "plain", timeout = "30s";
  std::vector<std::string> words;
};

cairn::Result<Cli> parse(int argc, char** argv) {
  Cli c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) -> cairn::Status {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        out = a.substr(eq + 1);
        return {};
      }
      if (i + 1 >= argc) return cairn::error(cairn::Errc::kInvalid, a + " needs a value");
      out = argv[++i];
      return {};
    };
    cairn::Status st;
    if (a == "-c" || a.rfind("--conf", 0) == 0)
      st = value(c.conf);
    else if (a.rfind("--mon-host", 0) == 0 || a.rfind("--mon_host", 0) == 0)
      st = value(c.mon_host);
    else if (a.rfind("--format", 0) == 0)
      st = value(c.format);
    else if (a.rfind("--timeout", 0) == 0)
      st = value(c.timeout);
    else if (a == "-h" || a == "--help")
      c.words.clear(), c.words.push_back("--help");
    else
      c.words.push_back(a);
    if (!st.ok()) return st;
  }
  if (c.format != "plain" && c.format != "json" && c.format != "json-pretty")
    return cairn::Status(cairn::Errc::kInvalid, "--format must be plain or json");
  return c;
}

// mon_host from --mon-host, else the config file (-c, CAIRN_CONF, ./cairn.conf).
cairn::Result<std::string> mon_hosts(const Cli& cli) {
  if (!cli.mon_host.empty()) return cli.mon_host;
  cairn::Config conf;
  conf.define("mon_host", cairn::OptType::kString, "", "monitor addresses");
  std::vector<const char*> args{"cairn"};
  if (!cli.conf.empty()) {
    args.push_back("-c");
    args.push_back(cli.conf.c_str());
  }
  CAIRN_RETURN_IF_ERROR(conf.load(static_cast<int>(args.size()), args.data(), {"client"}, "cairn.conf"));
  if (conf.get_string("mon_host").empty())
    return cairn::Status(cairn::Errc::kInvalid,
                         "no monitors: pass --mon-host or -c with a cairn.conf holding mon_host");
  return conf.get_string("mon_host");
}

int exit_code(int err) { return err <= 0 ? 1 : (err > 255 ? 1 : err); }

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "cluster") == 0) return cairn::tools::cluster_main(argc - 2, argv + 2);
  auto cli = parse(argc, argv);
  if (!cli.ok()) {
    std::fprintf(stderr, "cairn: %s\n", cli.status().message().c_str());
    return EINVAL;
  }
  if (cli->words.empty() || cli->words[0] == "--help" || cli->words[0] == "help") {
    usage();
    return cli->words.empty() ? EINVAL : 0;
  }
  cairn::log::configure("warn");
  auto hosts = mon_hosts(*cli);
  auto timeout = cairn::parse_duration_ms(cli->timeout);
  if (!hosts.ok() || !timeout.ok()) {
    std::fprintf(stderr, "cairn: %s\n", (!hosts.ok() ? hosts.status() : timeout.status()).message().c_str());
    return EINVAL;
  }
  if (cairn::tools::is_pg_scrub_command(cli->words))
    return cairn::tools::run_pg_scrub(*hosts, cli->words, cli->format != "plain",
                                      std::chrono::milliseconds(*timeout));
  if (cli->words[0] == "rados")
    return cairn::tools::run_rados(*hosts, cli->words, cli->format != "plain",
                                   std::chrono::milliseconds(*timeout));
  cairn::asio::io_context io;
  cairn::msg::Messenger messenger(io, cairn::msg::EntityName{cairn::msg::EntityType::kClient, "admin"});
  auto mc = cairn::client::MonClient::create(messenger, *hosts);
  if (!mc.ok()) {
    std::fprintf(stderr, "cairn: %s\n", mc.status().message().c_str());
    return EINVAL;
  }
  bool json = cli->format != "plain";
  int rc = 0;
  cairn::asio::co_spawn(
      io,
      [&]() -> cairn::awaitable<void> {
        std::vector<std::string> words = cli->words;
        std::chrono::milliseconds wait(*timeout);
        auto r = co_await mc->command(std::move(words), json, wait);
        if (!r.ok()) {
          std::fprintf(stderr, "cairn: %s\n", r.status().to_string().c_str());
          rc = exit_code(r.status().err());
        } else {
          std::fputs(r->out.c_str(), stdout);
          if (json && !r->out.empty() && r->out.back() != '\n') std::fputc('\n', stdout);
          if (r->code != 0) {
            std::fprintf(stderr, "cairn: %s\n", r->err.empty() ? std::strerror(r->code) : r->err.c_str());
            rc = exit_code(r->code);
          }
        }
        messenger.shutdown();
        io.stop();
      },
      cairn::asio::detached);
  io.run();
  return rc;
}
