#pragma once
// The command line, compatible with the original Go gateway: every flag works with one dash
// (`-dev`) or two (`--dev`), and `-flag value` or `-flag=value`. Every flag that sets something can
// also be set by an environment variable, EVENT_GATEWAY_<FLAG> (EVENT_GATEWAY_DB_HOSTS for -db-hosts);
// a flag given wins over its variable.

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eg::app {

struct Options {
  bool dev = false;
  std::string embed_data_dir = "default.eg";
  // The durable delivery spool and the dead letters, local to this instance; empty:
  // <embed_data_dir>/spool in dev mode, ./event-gateway-spool otherwise.
  std::string spool_dir;
  std::uint16_t config_port = 4001;
  std::uint16_t events_port = 4000;
  std::string listen_address = "0.0.0.0";  // an IP address or a host name
  // What listen_address stands for, resolved once at start (app/listen_check.h); both APIs listen on
  // each. Not from the command line: empty until main() has resolved it.
  std::vector<boost::asio::ip::address> listen_ips;
  std::string db_hosts = "127.0.0.1:2379";
  std::string db_tls_ca;    // PEM roots that sign etcd's certificate; any -db-tls-* turns TLS on
  std::string db_tls_cert;  // client certificate presented to etcd
  std::string db_tls_key;
  std::string db_user;      // etcd authentication; the password comes from -db-password or,
  std::string db_password;  // better (ps shows flags), its variable EVENT_GATEWAY_DB_PASSWORD
  unsigned db_timeout_ms = 2'000;
  std::string log_level = "info";   // debug | info | warn | error
  std::string log_format;           // text | json; empty: text in dev mode, json otherwise
  std::string config_tls_cert;
  std::string config_tls_key;
  std::string events_tls_cert;
  std::string events_tls_key;
  // API keys (docs/security.md): files of key digests and the spaces each key may act on; empty: no key
  // needed. Their variables also go by the names they had first, EVENT_GATEWAY_CONFIG_API_KEYS_FILE
  // and EVENT_GATEWAY_EVENTS_API_KEYS_FILE.
  std::string config_api_keys;
  std::string events_api_keys;
  // Web origins ("https://console.example.com") whose pages may write to the Configuration API.
  std::vector<std::string> config_allowed_origins;
  // Networks (CIDR) no function may be called on: the cloud metadata addresses by default.
  std::string function_deny_networks = "169.254.169.254/32,fd00:ec2::254/128";
  bool hash_key = false;        // -hash-key: print the key file line of the key on stdin, and exit
  unsigned events_threads = 0;  // 0: one per CPU core
  unsigned workers = 200;
  // Asynchronous deliveries accepted and not finished, waiting or retrying; each costs about 340
  // bytes of memory (measured, docs/delivery.md), its payload waits in the spool.
  std::size_t workers_backlog = 1'000'000;
  // Retries of asynchronous deliveries, where a subscription's `delivery` policy says nothing
  // (docs/delivery.md explains the defaults).
  unsigned delivery_max_attempts = 185;
  unsigned delivery_initial_backoff_ms = 1'000;
  unsigned delivery_max_backoff_ms = 300'000;
  unsigned delivery_max_age_seconds = 86'400;
  unsigned delivery_max_per_function = 50;  // concurrent attempts to one function, per Events API thread
  std::uint64_t spool_max_bytes = 1ULL << 30;
  bool spool_fsync = false;                 // power-loss-safe: a 202 waits for fsync (group commit)
  unsigned shutdown_timeout_ms = 20'000;    // attempts in flight may finish this long after SIGTERM
  std::vector<std::string> plugins;  // executables, in the order they are asked (docs/plugins.md)
  // A sync plugin sits on the path of every request it subscribed to: a second is ten times what an
  // authorizer that calls an identity provider takes at p99, and short enough that a hung plugin
  // refuses requests (503) before clients and their connections pile up.
  unsigned plugin_timeout_ms = 1'000;
  // Interpreters (Python, Node) and go-plugin plugins start in well under a second; a plugin that has
  // not answered Subscriptions after ten is not going to.
  unsigned plugin_start_timeout_ms = 10'000;
  std::size_t max_body_bytes = 1024 * 1024;
  // Connections each API holds open at once; 0: a quarter of the descriptor limit (descriptor_limit.h).
  std::size_t max_connections = 0;
  // Bytes of request and response bodies each API holds in memory at once.
  std::size_t max_buffered_bytes = 256 * 1024 * 1024;
  unsigned function_connect_timeout_ms = 2'000;
  unsigned function_timeout_ms = 30'000;
  unsigned max_hops = 16;           // requests that passed more gateways are refused with 508
  bool access_log = false;          // one log line per Events API request (docs/logging.md)
  bool cross_space_events = false;  // custom events reach every space's subscribers (the original's way)
  // What the command line or the environment asked for that is accepted but does nothing (an ignored
  // flag, a variable that sets no flag); logged once the logs are set up.
  std::vector<std::string> warnings;
};

struct ParsedCommandLine {
  enum class Action { Run, PrintAndExit, Fail };
  Action action = Action::Run;
  Options options;
  std::string message;  // usage or version text for PrintAndExit, the error for Fail
};

// The flags of argv, and those that the variables of the process's environment set.
ParsedCommandLine parse_command_line(int argc, const char* const argv[]);
// The same with the environment given as "NAME=value" entries (the tests' way).
ParsedCommandLine parse_command_line(int argc, const char* const argv[],
                                     const std::vector<std::string>& environment);

}  // namespace eg::app
