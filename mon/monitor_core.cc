#include "mon/monitor_core.h"

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace cairn::mon {

MonitorCore::MonitorCore(Paxos& paxos, PaxosStore& store) : paxos_(paxos), store_(store) {}

void MonitorCore::add_service(std::unique_ptr<Service> s) {
  s->bind([this](KvTxn t, std::function<void(Status)> done) {
    return paxos_.propose(std::move(t), std::move(done));
  });
  s->refresh(store_);
  services_.push_back(std::move(s));
}

void MonitorCore::on_commit() {
  for (auto& s : services_) s->refresh(store_);
}

void MonitorCore::handle_command(const MonCommand& cmd, ReplyFn done) {
  MonCommandReply reply;
  if (cmd.args.empty()) {
    reply.fail(Status(Errc::kInvalid, "empty command"));
    return done(std::move(reply));
  }
  if (!paxos_.is_leader()) {
    reply.fail(
        Status(Errc::kAgain, "not the leader; leader is rank " + std::to_string(paxos_.leader_rank())));
    return done(std::move(reply));
  }
  if (cmd.args[0] == "health") {
    health_command(cmd, reply);
    return done(std::move(reply));
  }
  for (auto& s : services_) {
    if (!s->owns(cmd.args)) continue;
    if (s->command_async(cmd, done)) return;
    auto r = s->command(cmd, reply);
    if (!r.ok()) {
      reply.out.clear();
      reply.fail(r.status());
      return done(std::move(reply));
    }
    if (!r->has_value()) return done(std::move(reply));
    Status st = paxos_.propose(std::move(**r), [reply, done](Status s) mutable {
      if (!s.ok()) {
        reply.out.clear();
        reply.fail(s.with_context("not committed"));
      }
      done(std::move(reply));
    });
    if (!st.ok()) {
      reply.out.clear();
      reply.fail(st);
      done(std::move(reply));
    }
    return;
  }
  std::string words;
  for (const auto& w : cmd.args) words += (words.empty() ? "" : " ") + w;
  reply.fail(Status(Errc::kInvalid, "unknown command '" + words + "'"));
  done(std::move(reply));
}

void MonitorCore::tick(uint64_t now_ms) {
  if (!paxos_.is_leader()) return;
  std::vector<KvTxn> txns;
  for (auto& s : services_) s->tick(now_ms, txns);
  for (auto& t : txns) {
    Status st = paxos_.propose(std::move(t), nullptr);
    if (!st.ok())
      CAIRN_LOG(kWarn, kMon) << "service tick proposal refused" << log::kv("error", st.to_string());
  }
}

std::vector<HealthCheck> MonitorCore::health() const {
  std::vector<HealthCheck> out;
  for (const auto& s : services_) s->health(out);
  return out;
}

const char* MonitorCore::health_status(const std::vector<HealthCheck>& checks) {
  HealthSeverity worst = HealthSeverity::kOk;
  for (const auto& c : checks) worst = std::max(worst, c.severity);
  return worst == HealthSeverity::kOk     ? "HEALTH_OK"
         : worst == HealthSeverity::kWarn ? "HEALTH_WARN"
                                          : "HEALTH_ERR";
}

void MonitorCore::health_command(const MonCommand& cmd, MonCommandReply& reply) const {
  auto checks = health();
  bool detail = cmd.args.size() > 1 && cmd.args[1] == "detail";
  if (cmd.json) {
    nlohmann::json j;
    j["status"] = health_status(checks);
    j["checks"] = nlohmann::json::object();
    for (const auto& c : checks) {
      j["checks"][c.code] = {{"severity", c.severity == HealthSeverity::kErr ? "HEALTH_ERR" : "HEALTH_WARN"},
                             {"summary", c.summary},
                             {"detail", c.detail}};
    }
    reply.out = j.dump();
    return;
  }
  reply.out = std::string(health_status(checks)) + "\n";
  for (const auto& c : checks) {
    reply.out += "[" + std::string(c.severity == HealthSeverity::kErr ? "ERR" : "WRN") + "] " + c.code +
                 ": " + c.summary + "\n";
    if (detail)
      for (const auto& d : c.detail) reply.out += "    " + d + "\n";
  }
}

}  // namespace cairn::mon
