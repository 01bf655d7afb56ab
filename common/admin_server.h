// What every daemon serves besides its protocol:
//  - an HTTP endpoint (GET /metrics: Prometheus text of a MetricsRegistry;
//    GET /health: "ok"), and
//  - an admin socket (a UNIX stream socket): one command line in, one JSON
//    reply out, then the connection closes. `help` lists the commands.
//
// Both run on the io_context given at construction. Requests are bounded (header
// size, line length, connection count) and answered with an error rather than
// trusted; a malformed request never stops the server.
//
// Lifetime: the AdminServer must outlive every run of its io_context (its
// coroutines refer to it); call stop() and let run() return before destroying it.
//
// Thread-safety: construct, register and start on the io_context's thread (or
// before it runs); handlers run on that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"

namespace boost::asio {
class io_context;
}

namespace cairn {

class AdminServer {
 public:
  // Returns the reply body (JSON text); errors become {"error": ...}.
  using Handler = std::function<Result<std::string>(const std::vector<std::string>& args)>;

  AdminServer(boost::asio::io_context& io, MetricsRegistry& metrics);
  ~AdminServer();

  void register_command(const std::string& name, const std::string& help, Handler h);
  // Binds the HTTP endpoint (port 0 picks a free one; see http_port()).
  Status start_http(const std::string& host, uint16_t port);
  // Creates the admin socket at `path` (an existing stale socket file is replaced).
  Status start_admin_socket(const std::string& path);
  uint16_t http_port() const;
  void stop();

  // For tests and the CLI: runs a command line as the socket would.
  std::string run_command_line(const std::string& line);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Client side of the admin socket: sends `line`, returns the reply.
Result<std::string> admin_socket_request(const std::string& path, const std::string& line,
                                         int timeout_ms = 5000);

}  // namespace cairn
