#include "app/gateway.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "app/build_info.h"
#include "app/data_dir_lock.h"
#include "app/descriptor_limit.h"
#include "app/events_endpoints.h"
#include "app/listen_check.h"
#include "app/service_notify.h"
#include "config/config_api.h"
#include "config/config_service.h"
#include "delivery/dead_letters.h"
#include "metrics/gateway_metrics.h"
#include "net/http_server.h"
#include "net/tls_server.h"
#include "plugin/plugin_host.h"
#include "routing/config_watcher.h"
#include "routing/snapshot.h"
#include "store/etcd/etcd_module_loader.h"
#include "store/keys.h"
#include "store/sqlite_store.h"

namespace eg::app {
namespace asio = boost::asio;

namespace {

// The Configuration API has limits of its own, so that no flood of the Events API (connections or
// bodies) can keep an operator from changing the configuration, and no flood of it can stop events.
net::HttpServerOptions config_server_options(const Options& options, std::uint16_t port,
                                             std::shared_ptr<net::ServerLimits> limits,
                                             std::shared_ptr<net::TlsServerContext> tls,
                                             net::StreamHandler streams) {
  return net::HttpServerOptions{.addresses = options.listen_ips,
                                .port = port,
                                .max_body_bytes = options.max_body_bytes,
                                .limits = std::move(limits),
                                .tls = std::move(tls),
                                .streams = std::move(streams)};
}

// The certificates of both APIs, none for an API without TLS. Loaded before anything else starts, so
// that a bad file stops the gateway (status 2, naming the flag: net::TlsFileError) before it touches
// the store.
struct TlsCertificates {
  std::shared_ptr<net::TlsServerContext> config;
  std::shared_ptr<net::TlsServerContext> events;
};

std::shared_ptr<net::TlsServerContext> load_certificate(const std::string& certificate,
                                                        const std::string& key, const std::string& api_flag) {
  if (certificate.empty()) return nullptr;  // the command line has checked that the key is absent too
  return std::make_shared<net::TlsServerContext>(net::TlsFiles{.certificate = certificate,
                                                               .key = key,
                                                               .certificate_flag = api_flag + "-tls-cert",
                                                               .key_flag = api_flag + "-tls-key"});
}

TlsCertificates load_certificates(const Options& options) {
  return TlsCertificates{
      .config = load_certificate(options.config_tls_cert, options.config_tls_key, "-config"),
      .events = load_certificate(options.events_tls_cert, options.events_tls_key, "-events")};
}

// Reloads one set of files on SIGHUP and logs what came of it. Never throws: a file that cannot be
// used keeps what was loaded before, and the gateway goes on serving.
using Reloader = std::function<void()>;

Reloader certificate_reloader(std::shared_ptr<net::TlsServerContext> tls, std::string api) {
  return [tls = std::move(tls), api = std::move(api)] {
    try {
      tls->reload();
      spdlog::info("{}: TLS certificate reloaded from {}; new connections get it", api,
                   tls->files().certificate);
    } catch (const net::TlsFileError& error) {
      spdlog::error("{}: TLS certificate not reloaded, new connections still get the one loaded before: {}",
                    api, error.what());
    }
  };
}

// Everything SIGHUP reloads.
std::vector<Reloader> hangup_reloaders(const TlsCertificates& tls) {
  std::vector<Reloader> reloaders;
  if (tls.config) reloaders.push_back(certificate_reloader(tls.config, "Configuration API"));
  if (tls.events) reloaders.push_back(certificate_reloader(tls.events, "Events API"));
  return reloaders;
}

// Reads the API key files again (docs/security.md); a file that cannot be read keeps the keys in use.
Reloader key_reloader(const Options& options, Security& security, config::ConfigApi& config_api,
                      EventsEndpoints& events) {
  return [&options, &security, &config_api, &events] {
    std::string failure;
    if (!reload_keys(options, security, failure)) {
      spdlog::error("SIGHUP: {}; the keys in use stay", failure);
      return;
    }
    config_api.use_keys(security.config_keys);
    events.use_keys(security.events_keys);
    spdlog::info("SIGHUP: API keys reloaded");
  };
}

// On every SIGHUP, runs each reloader, on the thread of the signal set's io_context. Connections stay
// open; whatever a reload comes to, the gateway goes on serving.
void reload_on_hangup(asio::signal_set& hangups, const std::vector<Reloader>& reloaders) {
  hangups.async_wait([&hangups, &reloaders](const boost::system::error_code& error, int) {
    if (error) return;
    if (reloaders.empty()) spdlog::info("received SIGHUP: nothing to reload");
    for (const auto& reload : reloaders) reload();
    reload_on_hangup(hangups, reloaders);
  });
}

// The options with -max-connections decided: the descriptor limit is raised first, so that the
// default share is taken of the limit the process runs with.
// Checked before anything starts (plugins, the store): a port in use ends the start at once, saying so.
Options with_ports_checked(Options options) {
  check_ports_free(options);
  return options;
}

Options with_connection_limit(Options options) {
  const auto descriptors = raise_descriptor_limit();
  if (options.max_connections == 0) options.max_connections = default_max_connections(descriptors);
  spdlog::info("at most {} connections per API and {} bytes of buffered bodies per API (descriptor limit {})",
               options.max_connections, options.max_buffered_bytes, descriptors);
  return options;
}

// Dev mode's data directory, locked before the store (or a plugin) is started: none in cluster mode,
// which keeps its configuration in etcd.
std::unique_ptr<DataDirectoryLock> lock_data_directory(const Options& options) {
  if (!options.dev) return nullptr;
  return std::make_unique<DataDirectoryLock>(options.embed_data_dir);
}

// Started before anything serves: the gateway is not ready until every plugin has answered
// Subscriptions, and a plugin that cannot be started ends the start (plugin::PluginStartError).
std::unique_ptr<plugin::PluginHost> start_plugins(const Options& options) {
  auto plugins = std::make_unique<plugin::PluginHost>(
      plugin::PluginOptions{.paths = options.plugins,
                            .call_timeout = std::chrono::milliseconds(options.plugin_timeout_ms),
                            .start_timeout = std::chrono::milliseconds(options.plugin_start_timeout_ms),
                            .lanes = events_thread_count(options.events_threads)});
  plugins->start();
  return plugins;
}

// Dev mode keeps the configuration in an embedded store; cluster mode shares it through etcd, whose
// client (gRPC) is a module loaded only here, so that dev mode does not map it.
std::unique_ptr<store::Store> open_store(const Options& options) {
  if (options.dev) return std::make_unique<store::SqliteStore>(options.embed_data_dir);
  return store::load_etcd_store(
      store::EtcdOptions{.endpoints = options.db_hosts,
                         .request_timeout = std::chrono::milliseconds(options.db_timeout_ms),
                         .tls_ca_file = options.db_tls_ca,
                         .tls_cert_file = options.db_tls_cert,
                         .tls_key_file = options.db_tls_key,
                         .username = options.db_user,
                         .password = options.db_password});
}

// The spool and the dead letters are local to an instance: under the embedded store's directory in
// dev mode, in a directory of their own otherwise.
std::filesystem::path spool_directory(const Options& options) {
  if (!options.spool_dir.empty()) return options.spool_dir;
  if (options.dev) return std::filesystem::path(options.embed_data_dir) / "spool";
  return "event-gateway-spool";
}

// What the Configuration API answers when the Events API would not take a dead letter back.
config::RedeliveryOutcome redelivery_outcome(events::Redelivery redelivery) {
  using Status = net::http::status;
  switch (redelivery) {
    case events::Redelivery::Accepted:
      return config::RedeliveryOutcome::accepted();
    case events::Redelivery::LetterGone:
      return config::RedeliveryOutcome::refused(Status::not_found, "the dead letter was deleted meanwhile");
    case events::Redelivery::SubscriptionGone:
      return config::RedeliveryOutcome::refused(
          Status::conflict, "the dead letter's subscription no longer exists: create it again to redeliver");
    case events::Redelivery::SpoolFull:
      return config::RedeliveryOutcome::refused(Status::service_unavailable,
                                                "the delivery spool or backlog is full; retry later");
    case events::Redelivery::Draining:
      break;
  }
  return config::RedeliveryOutcome::refused(Status::service_unavailable,
                                            "the event gateway is shutting down");
}

// The store's side of /v1/status: whether a read succeeds now (within the store's request
// timeout) from the history this instance follows, which configuration revision it routes with, and
// which records it could not read.
boost::json::object store_status(store::Store& store, routing::SnapshotHolder::Reader& routing) {
  const auto& snapshot = routing.current();
  const auto routed = snapshot.revision();  // read first: a store in step is at least there
  boost::json::array unreadable;
  for (const auto& [key, reason] : snapshot.unreadable_records()) {
    unreadable.push_back(boost::json::object{{"key", key}, {"reason", reason}});
  }
  boost::json::object status{{"backend", store.describe()},
                             {"routingRevision", routed},
                             {"unreadableRecords", std::move(unreadable)}};
  try {
    const auto revision = store.get(std::string(store::keys::kRoot)).revision;
    status["available"] = revision >= routed;
    if (revision < routed) {
      // Until the watch notices and the configuration is reloaded (docs/store.md).
      status["error"] = "the store is at revision " + std::to_string(revision) + ", behind revision " +
                        std::to_string(routed) +
                        " that this instance routes: it went back in history (restored from an older backup, "
                        "or its data wiped); the configuration is being reloaded";
    }
  } catch (const store::StoreUnavailable& error) {
    status["available"] = false;
    status["error"] = error.what();
  }
  return status;
}

// The Configuration API on its own thread: its handlers call the store synchronously, which suits
// human-paced configuration and never delays events.
struct ConfigEndpoint {
  asio::io_context io{1};
  std::shared_ptr<net::ServerLimits> limits;
  routing::SnapshotHolder::Reader routing;
  config::ConfigService service;
  config::ConfigApi api;
  net::HttpServer server;

  ConfigEndpoint(const Options& options, const Security& security, store::Store& store,
                 routing::SnapshotHolder& snapshots, delivery::DeadLetters& dead_letters,
                 config::Redeliver redeliver, std::shared_ptr<net::TlsServerContext> tls)
      : limits(std::make_shared<net::ServerLimits>("Configuration API", options.max_connections,
                                                   options.max_buffered_bytes)),
        routing(snapshots),
        service(store, &snapshots, security.denied_networks),
        api(
            service, [this, &store] { return store_status(store, routing); }, dead_letters,
            std::move(redeliver),
            config::ConfigApiSecurity{.keys = security.config_keys,
                                      .cross_site = security.cross_site,
                                      .warnings = security.warnings}),
        server(io,
               config_server_options(options, options.config_port, limits, std::move(tls),
                                     [this](net::Request& request) { return api.stream(request); }),
               [this](net::Request& request) -> asio::awaitable<net::Response> {
                 co_return api.handle(request);
               }) {}
};

void report_plugin_metrics(metrics::Sink& sink, const plugin::PluginTable& table) {
  for (const auto& plugin : table.plugins) {
    const auto& counters = *plugin.counters;
    sink.set(metrics::plugin_async_dropped, {plugin.name},
             static_cast<double>(counters.async_dropped.load(std::memory_order_relaxed)));
    sink.set(metrics::plugin_async_lost, {plugin.name},
             static_cast<double>(counters.async_lost.load(std::memory_order_relaxed)));
    sink.set(metrics::plugin_restarts, {plugin.name},
             static_cast<double>(counters.restarts.load(std::memory_order_relaxed)));
  }
}

}  // namespace

struct Gateway::Parts {
  const Options options;
  Security security;
  TlsCertificates tls;
  // Held until the store, the spool and the dead letters are closed.
  std::unique_ptr<DataDirectoryLock> data_dir_lock;
  // Before the Events API, which calls them, and destroyed after it.
  std::unique_ptr<plugin::PluginHost> plugins;
  std::unique_ptr<store::Store> store;
  std::filesystem::path spool_dir;
  // After the store: a gateway that cannot reach its configuration says so first.
  std::unique_ptr<delivery::DeadLetters> dead_letters;
  routing::SnapshotHolder snapshots;
  routing::ConfigWatcher watcher;
  ConfigEndpoint config;
  EventsEndpoints events;
  std::atomic<bool> draining{false};  // since SIGTERM or SIGINT
  // Last: it reads the parts above at every scrape of /metrics.
  metrics::CollectorHandle collector;

  Parts(const Options& gateway_options, Security gateway_security)
      : options(gateway_options),
        security(std::move(gateway_security)),
        tls(load_certificates(options)),
        data_dir_lock(lock_data_directory(options)),
        plugins(start_plugins(options)),
        store(open_store(options)),
        spool_dir(spool_directory(options)),
        dead_letters(delivery::open_local_dead_letters(spool_dir, options.spool_fsync)),
        watcher(*store, snapshots),
        // Called only once the gateway runs, when `events` exists.
        config(
            options, security, *store, snapshots, *dead_letters,
            [this](const delivery::DeadLetter& letter) {
              return redelivery_outcome(events.redeliver(letter));
            },
            tls.config),
        events(options, security, snapshots, spool_dir, *dead_letters, tls.events,
               options.plugins.empty() ? nullptr : plugins.get()) {
    watcher.start();
    collector = metrics::add_collector([this](metrics::Sink& sink) { report_metrics(sink); });
    config.api.use_readiness([this] {
      auto reasons = not_ready_because();
      if (draining) reasons.push_back("the gateway is shutting down");
      return reasons;
    });
    events.use_readiness([this] { return not_ready_because(); });  // each thread knows it drains
  }

  // What GET /readyz reports on both APIs (docs/api.md), besides draining. Any thread. The store is not
  // among the reasons: the gateway routes from the snapshot it loaded before it became ready, and an
  // etcd outage that took every instance out of its load balancer would stop what still works.
  std::vector<std::string> not_ready_because() {
    std::vector<std::string> reasons;
    if (plugins) {
      for (const auto& plugin : plugins->table().get()->plugins) {
        if (plugin.clients.empty()) reasons.push_back("plugin " + plugin.name + " is not running");
      }
    }
    return reasons;
  }

  // The gauges and the counters others keep, read when /metrics is scraped (on the Configuration
  // API's thread).
  void report_metrics(metrics::Sink& sink) {
    const auto snapshot = config.routing.pin();  // the Configuration API thread's reader
    for (const auto& [space, tally] : snapshot->space_tallies()) {
      if (tally.functions > 0)
        sink.set(metrics::functions_total, {space}, static_cast<double>(tally.functions));
      if (tally.subscriptions > 0) {
        sink.set(metrics::subscriptions_total, {space}, static_cast<double>(tally.subscriptions));
      }
    }
    sink.set(metrics::routing_revision, {}, static_cast<double>(snapshot->revision()));
    const auto pending = static_cast<double>(events.pending_deliveries());
    sink.set(metrics::events_backlog, {}, pending);
    sink.set(metrics::deliveries_pending, {}, pending);
    sink.set(metrics::open_connections, {"events"}, static_cast<double>(events.open_connections()));
    sink.set(metrics::open_connections, {"config"}, static_cast<double>(config.limits->connections.taken()));
    // The read /v1/status makes: with etcd down it fails at once once gRPC knows (etcd_store.cpp).
    sink.set(metrics::store_available, {},
             store_status(*store, config.routing).at("available").as_bool() ? 1 : 0);
    sink.set(metrics::build_info, {build_version(), build_commit()}, 1);
    if (plugins) report_plugin_metrics(sink, *plugins->table().get());
  }
};

Gateway::Gateway(const Options& options, Security security)
    : parts_(
          std::make_unique<Parts>(with_connection_limit(with_ports_checked(options)), std::move(security))) {}

Gateway::~Gateway() = default;

int Gateway::run() {
  auto& parts = *parts_;
  asio::signal_set signals(parts.config.io, SIGINT, SIGTERM);
  // Both APIs stop accepting first, so that new connections are refused at once; the Configuration
  // API's open connections are served (with Connection: close) until the Events API has drained,
  // then both APIs close their idle connections.
  signals.async_wait([&parts](const boost::system::error_code& error, int signal) {
    if (error) return;
    spdlog::info("received signal {}: finishing accepted events, then exiting", signal);
    notify_service_stopping();
    parts.draining = true;
    parts.config.server.stop_accepting();
    parts.events.drain_and_stop([&parts] {
      asio::co_spawn(
          parts.config.io,
          [&parts]() -> asio::awaitable<void> {
            co_await parts.config.server.close_connections();
            parts.config.io.stop();
          },
          asio::detached);
    });
  });
  asio::signal_set hangups(parts.config.io, SIGHUP);
  auto reloaders = hangup_reloaders(parts.tls);
  if (!parts.options.config_api_keys.empty() || !parts.options.events_api_keys.empty()) {
    reloaders.push_back(key_reloader(parts.options, parts.security, parts.config.api, parts.events));
  }
  reload_on_hangup(hangups, reloaders);
  for (const auto& warning : parts.security.warnings) spdlog::warn("{}", warning);
  parts.config.server.start();
  parts.events.start();
  const auto ready =
      fmt::format("Configuration API on port {}{}, Events API on port {}{} ({} threads), store {}",
                  parts.config.server.port(), parts.tls.config ? " (TLS)" : "", parts.events.port(),
                  parts.tls.events ? " (TLS)" : "", parts.events.threads(), parts.store->describe());
  spdlog::info("event gateway ready: {}", ready);
  // Both APIs listen, every plugin has answered and the configuration is loaded: what /readyz needs.
  notify_service_ready(ready);

  std::thread events_thread([&parts] { parts.events.run(); });
  parts.config.io.run();
  events_thread.join();
  // Only now: the Events API drained with its plugins still up, so that no request in flight lost
  // an authorizer it needed.
  parts.plugins->stop();
  spdlog::info("event gateway stopped");
  return 0;
}

}  // namespace eg::app
