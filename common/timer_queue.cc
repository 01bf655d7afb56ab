#include "common/timer_queue.h"

#include <unordered_map>

#include "common/asio.h"

namespace cairn {
namespace {

class AsioTimerQueue final : public TimerQueue {
 public:
  explicit AsioTimerQueue(asio::io_context& io) : io_(io), alive_(std::make_shared<bool>(true)) {}
  ~AsioTimerQueue() override {
    *alive_ = false;
    for (auto& [id, t] : timers_) t->cancel();
  }

  TimerId schedule_after_ns(uint64_t delay_ns, std::function<void()> fn) override {
    TimerId id = ++next_id_;
    auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::nanoseconds(delay_ns));
    timers_[id] = t;
    std::weak_ptr<bool> alive = alive_;
    t->async_wait([this, id, alive, t, fn = std::move(fn)](const boost::system::error_code& ec) {
      auto a = alive.lock();
      if (!a || !*a || ec) return;  // queue gone or timer cancelled
      timers_.erase(id);
      fn();
    });
    return id;
  }

  bool cancel(TimerId id) override {
    auto it = timers_.find(id);
    if (it == timers_.end()) return false;
    it->second->cancel();
    timers_.erase(it);
    return true;
  }

 private:
  asio::io_context& io_;
  std::shared_ptr<bool> alive_;
  TimerId next_id_ = 0;
  std::unordered_map<TimerId, std::shared_ptr<asio::steady_timer>> timers_;  // owner thread only
};

}  // namespace

std::unique_ptr<TimerQueue> make_asio_timer_queue(asio::io_context& io) {
  return std::make_unique<AsioTimerQueue>(io);
}

}  // namespace cairn
