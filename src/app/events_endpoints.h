#pragma once
// The Events API on several event-loop threads, one per core by default. Each thread owns an
// io_context, an HttpServer, a Dispatcher (with its HttpClient and delivery queue) and an EventsApi;
// the servers all listen on one port with SO_REUSEPORT, so the kernel spreads connections across the
// threads and a request is served start to finish on the thread that accepted its connection. The
// threads share only the routing snapshots (one atomic load per request) and the delivery capacity
// (one atomic counter per accepted event), and the API's connection and byte limits
// (net::ServerLimits, one atomic operation per connection and per body): no lock on the hot path.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "app/options.h"
#include "delivery/delivery_queue.h"
#include "net/server_limits.h"
#include "routing/snapshot.h"

namespace eg::app {

class EventsEndpoints {
 public:
  // Binds the port on every thread's server; throws when it cannot.
  EventsEndpoints(const Options& options, routing::SnapshotHolder& snapshots);
  ~EventsEndpoints();

  // Starts accepting connections (they are served once run() runs the event loops).
  void start();
  // Runs every event loop, each on its own thread (the caller's among them); returns once all stopped.
  void run();
  // Closes every thread's listener (new connections are refused), answers requests on open
  // connections with 503 and Connection: close, lets accepted events reach their functions and calls
  // in flight finish on every thread, then calls `drained` (on one of the threads) and closes the
  // idle connections gracefully and stops every event loop. Call from any thread, once.
  void drain_and_stop(std::function<void()> drained = {});

  std::uint16_t port() const;
  std::size_t threads() const { return loops_.size(); }

 private:
  struct Loop;
  void loop_drained();

  delivery::Capacity capacity_;
  std::shared_ptr<net::ServerLimits> limits_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<std::size_t> loops_draining_{0};
  std::function<void()> drained_;
};

// The number of Events API threads for `-events-threads` (0: one per core).
unsigned events_thread_count(unsigned requested);

}  // namespace eg::app
