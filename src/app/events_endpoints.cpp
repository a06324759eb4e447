#include "app/events_endpoints.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <future>
#include <thread>

#include "events/dispatcher.h"
#include "events/events_api.h"
#include "net/http_server.h"

namespace eg::app {
namespace asio = boost::asio;

namespace {

// Every thread's server shares the API's limits and TLS certificate. A client that hangs up cancels
// the synchronous call it was waiting for: nobody would read the function's answer.
net::HttpServerOptions server_options(const Options& options, std::uint16_t port,
                                      std::shared_ptr<net::ServerLimits> limits,
                                      std::shared_ptr<net::TlsServerContext> tls) {
  return net::HttpServerOptions{.addresses = options.listen_ips,
                                .port = port,
                                .max_body_bytes = options.max_body_bytes,
                                .reuse_port = true,
                                .limits = std::move(limits),
                                .cancel_on_hangup = true,
                                .tls = std::move(tls)};
}

// -workers is for the whole gateway: each thread runs its share, at least one.
events::DispatcherOptions dispatcher_options(const Options& options, unsigned threads,
                                             const Security& security) {
  return events::DispatcherOptions{
      .workers = std::max(1u, options.workers / threads),
      .per_function = options.delivery_max_per_function,
      .retry =
          delivery::RetryPolicy{
              .max_attempts = options.delivery_max_attempts,
              .initial_backoff = std::chrono::milliseconds(options.delivery_initial_backoff_ms),
              .max_backoff = std::chrono::milliseconds(options.delivery_max_backoff_ms),
              .max_age = std::chrono::seconds(options.delivery_max_age_seconds)},
      .http = net::HttpClientOptions{
          .connect_timeout = std::chrono::milliseconds(options.function_connect_timeout_ms),
          .total_timeout = std::chrono::milliseconds(options.function_timeout_ms),
          .denied_networks = security.denied_networks}};
}

std::vector<std::unique_ptr<asio::io_context>> make_ios(unsigned threads) {
  std::vector<std::unique_ptr<asio::io_context>> ios;
  // Every socket and timer of a loop is used by its own thread only, so Asio need not lock around
  // each I/O operation; posting from other threads (drain_and_stop, redeliver) still locks.
  for (unsigned i = 0; i < threads; ++i)
    ios.push_back(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
  return ios;
}

std::vector<std::unique_ptr<delivery::Spool>> open_spools(
    const Options& options, const std::filesystem::path& directory,
    const std::vector<std::unique_ptr<asio::io_context>>& ios, delivery::DeadLetters& dead_letters) {
  std::vector<asio::io_context*> loops;
  for (const auto& io : ios) loops.push_back(io.get());
  return delivery::open_local_spools(
      directory, loops,
      delivery::SpoolOptions{.max_bytes = options.spool_max_bytes, .fsync = options.spool_fsync},
      dead_letters);
}

// The Events API's handler: with -access-log, one that logs each request once answered; without
// it, the API's own, so that the access log costs nothing when it is off.
net::Handler access_logged_handler(events::EventsApi& api, bool access_log) {
  if (access_log) return [&api](net::Request& request) { return api.handle_and_log(request); };
  return [&api](net::Request& request) { return api.handle(request); };
}

}  // namespace

unsigned events_thread_count(unsigned requested) {
  if (requested != 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

// One event-loop thread's share of the Events API. Members are destroyed in reverse order: the server
// (whose handler uses the API) first, the io_context last.
struct EventsEndpoints::Loop {
  asio::io_context& io;
  events::Dispatcher dispatcher;
  events::EventsApi api;
  net::HttpServer server;

  Loop(const Options& options, const Security& security, unsigned threads, std::uint16_t port,
       asio::io_context& io, routing::SnapshotHolder& snapshots, events::DeliveryStores stores,
       std::shared_ptr<net::ServerLimits> limits, std::shared_ptr<net::TlsServerContext> tls,
       events::Dispatcher::Plugins plugins)
      : io(io),
        dispatcher(io, snapshots, stores, dispatcher_options(options, threads, security), plugins),
        api(dispatcher, events::EventsApiOptions{.max_hops = options.max_hops,
                                                 .cross_space_events = options.cross_space_events}),
        server(io, server_options(options, port, std::move(limits), std::move(tls)),
               access_logged_handler(api, options.access_log)) {
    api.use_keys(security.events_keys);
  }

  // The listener is closed here, before anything else and not in a handler posted for later: a loop
  // with nothing to wait for stops its io_context at once, and a close still queued then never ran,
  // which left that thread's SO_REUSEPORT listener open (the kernel kept completing handshakes on it
  // and nobody accepted them) until every other thread had drained. `drained` runs on this thread
  // once its delivery attempts and calls in flight have finished, or at `deadline`.
  void drain(std::chrono::steady_clock::time_point deadline, std::function<void()> drained) {
    asio::post(io, [this, deadline, drained = std::move(drained)] {
      server.stop_accepting();
      api.start_draining();  // requests on open connections are answered 503, with Connection: close
      asio::co_spawn(
          io,
          [this, deadline, drained]() -> asio::awaitable<void> {
            co_await dispatcher.drain(deadline);
            drained();
          },
          asio::detached);
    });
  }

  // Closes the idle connections in order, then stops the loop once no connection is left.
  void close_and_stop() {
    asio::co_spawn(
        io,
        [this]() -> asio::awaitable<void> {
          co_await server.close_connections();
          io.stop();
        },
        asio::detached);
  }
};

EventsEndpoints::EventsEndpoints(const Options& options, const Security& security,
                                 routing::SnapshotHolder& snapshots, const std::filesystem::path& spool_dir,
                                 delivery::DeadLetters& dead_letters,
                                 std::shared_ptr<net::TlsServerContext> tls, plugin::PluginHost* plugins)
    : shutdown_timeout_(options.shutdown_timeout_ms),
      capacity_(options.workers_backlog),
      limits_(std::make_shared<net::ServerLimits>("Events API", options.max_connections,
                                                  options.max_buffered_bytes)),
      tls_(std::move(tls)),
      ios_(make_ios(events_thread_count(options.events_threads))),
      spools_(open_spools(options, spool_dir, ios_, dead_letters)) {
  const auto threads = static_cast<unsigned>(ios_.size());
  // The first server may pick a free port (port 0); the others join it on that port.
  std::uint16_t port = options.events_port;
  for (unsigned i = 0; i < threads; ++i) {
    const events::DeliveryStores stores{*spools_[i], dead_letters, capacity_};
    loops_.push_back(std::make_unique<Loop>(options, security, threads, port, *ios_[i], snapshots, stores,
                                            limits_, tls_,
                                            events::Dispatcher::Plugins{.host = plugins, .lane = i}));
    port = loops_.front()->server.port();
  }
}

EventsEndpoints::~EventsEndpoints() = default;

void EventsEndpoints::start() {
  for (auto& loop : loops_) {
    loop->server.start();
    asio::post(loop->io, [loop = loop.get()] { loop->dispatcher.resume(); });
  }
}

void EventsEndpoints::run() {
  std::vector<std::jthread> others;
  for (std::size_t i = 1; i < loops_.size(); ++i)
    others.emplace_back([loop = loops_[i].get()] { loop->io.run(); });
  loops_.front()->io.run();
}

void EventsEndpoints::drain_and_stop(std::function<void()> drained) {
  drained_ = std::move(drained);
  loops_draining_ = loops_.size();
  const auto deadline = std::chrono::steady_clock::now() + shutdown_timeout_;
  for (auto& loop : loops_) loop->drain(deadline, [this] { loop_drained(); });
}

// Idle connections stay open (their requests answered 503) until every thread has drained, not just
// their own: a client that sends a request during the drain hears why, rather than finding its
// connection closed.
void EventsEndpoints::loop_drained() {
  if (loops_draining_.fetch_sub(1) != 1) return;
  if (drained_) drained_();
  for (auto& loop : loops_) loop->close_and_stop();
}

events::Redelivery EventsEndpoints::redeliver(const delivery::DeadLetter& letter) {
  // Long enough for a group commit on a slow disk; a loop that does not answer is shutting down.
  constexpr auto kAnswerWithin = std::chrono::seconds(10);
  auto& loop = *loops_[next_redelivery_loop_.fetch_add(1) % loops_.size()];
  auto answer = std::make_shared<std::promise<events::Redelivery>>();
  auto future = answer->get_future();
  asio::co_spawn(
      loop.io,
      [&loop, letter, answer]() -> asio::awaitable<void> {
        answer->set_value(co_await loop.dispatcher.redeliver(letter));
      },
      [answer](std::exception_ptr error) {
        if (error) answer->set_exception(error);
      });
  if (future.wait_for(kAnswerWithin) != std::future_status::ready) return events::Redelivery::Draining;
  return future.get();
}

void EventsEndpoints::use_readiness(const net::Readiness& readiness) {
  for (auto& loop : loops_) loop->api.use_readiness(readiness);
}

void EventsEndpoints::use_keys(std::shared_ptr<const auth::ApiKeys> keys) {
  for (auto& loop : loops_) {
    asio::post(loop->io, [api = &loop->api, keys] { api->use_keys(keys); });
  }
}

std::uint16_t EventsEndpoints::port() const { return loops_.front()->server.port(); }

}  // namespace eg::app
