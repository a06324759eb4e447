#pragma once
// The Events API on several event-loop threads, one per core by default. Each thread owns an
// io_context, a delivery spool, an HttpServer, a Dispatcher (with its HttpClient and delivery
// scheduler) and an EventsApi;
// the servers all listen on one port with SO_REUSEPORT, so the kernel spreads connections across the
// threads and a request is served start to finish on the thread that accepted its connection. The
// threads share only the routing snapshots (one atomic load per request), the delivery capacity
// (one atomic counter per accepted event), the dead letters (rare), and the API's connection and byte limits
// (net::ServerLimits, one atomic operation per connection and per body): no lock on the hot path.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/options.h"
#include "app/security.h"
#include "delivery/capacity.h"
#include "delivery/dead_letters.h"
#include "delivery/spool.h"
#include "events/dispatcher.h"
#include "net/server_limits.h"
#include "net/tls_server.h"
#include "plugin/plugin_host.h"
#include "routing/snapshot.h"

namespace eg::app {

class EventsEndpoints {
 public:
  // Binds the port on every thread's server and opens every thread's spool under `spool_dir`;
  // throws when it cannot. With `tls`, every thread's server serves TLS with it; with `plugins`,
  // every thread's dispatcher calls them (they must outlive this).
  EventsEndpoints(const Options& options, const Security& security, routing::SnapshotHolder& snapshots,
                  const std::filesystem::path& spool_dir, delivery::DeadLetters& dead_letters,
                  std::shared_ptr<net::TlsServerContext> tls = nullptr,
                  plugin::PluginHost* plugins = nullptr);
  ~EventsEndpoints();

  // Starts accepting connections (they are served once run() runs the event loops), and resumes
  // the deliveries the spools held.
  void start();
  // Runs every event loop, each on its own thread (the caller's among them); returns once all stopped.
  void run();
  // Closes every thread's listener (new connections are refused), answers requests on open
  // connections with 503 and Connection: close, lets delivery attempts and calls in flight finish on
  // every thread (for at most -shutdown-timeout; what is left stays in the spools), then calls
  // `drained` (on one of the threads) and closes the idle connections gracefully and stops every
  // event loop. Call from any thread, once.
  void drain_and_stop(std::function<void()> drained = {});
  // Delivers a dead letter again, on one of the threads; waits until it is in that thread's spool.
  // Call from any thread but the Events API's.
  events::Redelivery redeliver(const delivery::DeadLetter& letter);
  // The keys custom events and invoke need from now on (none: no key), on every thread; call from any.
  void use_keys(std::shared_ptr<const auth::ApiKeys> keys);
  // What every thread's GET /readyz asks, besides whether it drains; call before start().
  void use_readiness(const net::Readiness& readiness);

  std::uint16_t port() const;
  std::size_t threads() const { return loops_.size(); }
  // Asynchronous deliveries accepted and not finished, on every thread.
  std::size_t pending_deliveries() const { return capacity_.taken(); }
  std::size_t open_connections() const { return limits_->connections.taken(); }

 private:
  struct Loop;
  void loop_drained();

  const std::chrono::milliseconds shutdown_timeout_;
  delivery::Capacity capacity_;
  std::shared_ptr<net::ServerLimits> limits_;
  std::shared_ptr<net::TlsServerContext> tls_;  // shared by every thread's server; none: plain HTTP
  // Destroyed in reverse order: the loops, then the spools they use, then the io_contexts.
  std::vector<std::unique_ptr<boost::asio::io_context>> ios_;
  std::vector<std::unique_ptr<delivery::Spool>> spools_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<std::size_t> next_redelivery_loop_{0};
  std::atomic<std::size_t> loops_draining_{0};
  std::function<void()> drained_;
};

// The number of Events API threads for `-events-threads` (0: one per core).
unsigned events_thread_count(unsigned requested);

}  // namespace eg::app
