#include "app/options.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace eg::app {
namespace po = boost::program_options;
namespace {

// The original's flags for its embedded etcd, which ours does not need: accepted, with a warning.
po::typed_value<std::string>* ignored_flag(Options& options, std::string name) {
  return po::value<std::string>()->notifier([&options, name = std::move(name)](const std::string&) {
    options.warnings.push_back("-" + name + " is ignored: the embedded store (dev mode) needs no ports");
  });
}

po::options_description describe_options(Options& options) {
  po::options_description description("Usage: event-gateway [flags]\n\nFlags (one or two dashes)");
  description.add_options()
      ("help", "print this help and exit")
      ("version", "print the version and exit")
      ("dev", po::bool_switch(&options.dev), "dev mode: embedded configuration store, no other server needed")
      ("embed-data-dir", po::value(&options.embed_data_dir)->default_value(options.embed_data_dir),
       "directory of the embedded store (dev mode)")
      ("embed-cli-addr", ignored_flag(options, "embed-cli-addr"),
       "the original's embedded etcd client address: ignored, with a warning")
      ("embed-peer-addr", ignored_flag(options, "embed-peer-addr"),
       "the original's embedded etcd peer address: ignored, with a warning")
      ("spool-dir", po::value(&options.spool_dir),
       "directory of the durable delivery spool and the dead letters; default: <embed-data-dir>/spool in "
       "dev mode, ./event-gateway-spool otherwise")
      ("config-port", po::value(&options.config_port)->default_value(options.config_port),
       "port of the Configuration API")
      ("events-port", po::value(&options.events_port)->default_value(options.events_port),
       "port of the Events API")
      ("listen-address", po::value(&options.listen_address)->default_value(options.listen_address),
       "address both APIs listen on")
      ("db-hosts", po::value(&options.db_hosts)->default_value(options.db_hosts),
       "comma-separated etcd endpoints (cluster mode)")
      ("db-tls-ca", po::value(&options.db_tls_ca), "CA file (PEM) that signs etcd's certificate; enables TLS")
      ("db-tls-cert", po::value(&options.db_tls_cert), "client certificate file (PEM) presented to etcd")
      ("db-tls-key", po::value(&options.db_tls_key), "key file (PEM) of -db-tls-cert")
      ("db-user", po::value(&options.db_user), "etcd user (etcd authentication)")
      ("db-password", po::value(&options.db_password),
       "password of -db-user (prefer the EVENT_GATEWAY_DB_PASSWORD environment variable)")
      ("db-timeout", po::value(&options.db_timeout_ms)->default_value(options.db_timeout_ms),
       "milliseconds an etcd request may take; Configuration API calls fail with 503 after it")
      ("log-level", po::value(&options.log_level)->default_value(options.log_level),
       "debug, info, warn (or warning) or error")
      ("log-format", po::value(&options.log_format),
       "text or json (default: text with -dev, json otherwise)")
      ("config-tls-cert", po::value(&options.config_tls_cert),
       "TLS for the Configuration API: its certificate chain (PEM, the certificate first, then its "
       "intermediates); SIGHUP reloads it")
      ("config-tls-key", po::value(&options.config_tls_key), "private key (PEM) of -config-tls-cert")
      ("events-tls-cert", po::value(&options.events_tls_cert),
       "TLS for the Events API: its certificate chain (PEM, the certificate first, then its "
       "intermediates); SIGHUP reloads it")
      ("events-tls-key", po::value(&options.events_tls_key), "private key (PEM) of -events-tls-cert")
      ("config-api-keys", po::value(&options.config_api_keys),
       "file of API key digests: every Configuration API request but GET /v1/status needs a key "
       "(docs/security.md; also EVENT_GATEWAY_CONFIG_API_KEYS_FILE)")
      ("events-api-keys", po::value(&options.events_api_keys),
       "file of API key digests: custom events and invoke need a key of their space "
       "(docs/security.md; also EVENT_GATEWAY_EVENTS_API_KEYS_FILE)")
      ("config-allowed-origins", po::value(&options.config_allowed_origins)->multitoken()->composing(),
       "comma-separated web origins (https://console.example.com) whose pages may write to the "
       "Configuration API; repeatable")
      ("function-deny-networks", po::value(&options.function_deny_networks)
           ->default_value(options.function_deny_networks),
       "comma-separated networks (CIDR) no function may be registered on or called at; \"\" for none")
      ("hash-key", po::bool_switch(&options.hash_key),
       "read an API key on stdin, print its line for -config-api-keys or -events-api-keys, and exit")
      ("events-threads", po::value(&options.events_threads)->default_value(options.events_threads),
       "event-loop threads serving the Events API; 0 means one per CPU core")
      ("workers", po::value(&options.workers)->default_value(options.workers),
       "maximum concurrent asynchronous deliveries, shared among the Events API threads")
      ("workers-backlog", po::value(&options.workers_backlog)->default_value(options.workers_backlog),
       "asynchronous deliveries accepted and not finished (waiting, running or retrying); when full, new "
       "custom events are refused with 429")
      ("delivery-max-attempts", po::value(&options.delivery_max_attempts)
           ->default_value(options.delivery_max_attempts),
       "attempts of an asynchronous delivery, the first included, before it becomes a dead letter "
       "(a subscription's delivery.maxAttempts wins)")
      ("delivery-initial-backoff-ms", po::value(&options.delivery_initial_backoff_ms)
           ->default_value(options.delivery_initial_backoff_ms),
       "milliseconds before the first retry at most; doubles with each retry (full jitter)")
      ("delivery-max-backoff-ms", po::value(&options.delivery_max_backoff_ms)
           ->default_value(options.delivery_max_backoff_ms),
       "longest wait between two attempts, Retry-After included (milliseconds)")
      ("delivery-max-age-seconds", po::value(&options.delivery_max_age_seconds)
           ->default_value(options.delivery_max_age_seconds),
       "no retry later than this long after a delivery's first attempt")
      ("delivery-max-per-function", po::value(&options.delivery_max_per_function)
           ->default_value(options.delivery_max_per_function),
       "concurrent asynchronous attempts to one function, per Events API thread")
      ("spool-max-bytes", po::value(&options.spool_max_bytes)->default_value(options.spool_max_bytes),
       "disk space of the spool; custom events that do not fit are refused with 429")
      ("spool-fsync", po::bool_switch(&options.spool_fsync),
       "power-loss-safe spool: a 202 waits until its event is fsync'ed (many events per fsync)")
      ("shutdown-timeout", po::value(&options.shutdown_timeout_ms)->default_value(options.shutdown_timeout_ms),
       "milliseconds that delivery attempts and calls in flight may take to finish after SIGTERM; what is "
       "left stays in the spool")
      ("plugin", po::value(&options.plugins)->composing(),
       "executable of a plugin to start, repeatable: go-plugin's handshake in gRPC mode, the Reacter service "
       "of proto/plugin/v1/reacter.proto; plugins are asked in flag order")
      ("plugin-timeout", po::value(&options.plugin_timeout_ms)->default_value(options.plugin_timeout_ms),
       "milliseconds a plugin may take to answer; a sync plugin that does not refuses the request with 503")
      ("plugin-start-timeout", po::value(&options.plugin_start_timeout_ms)
           ->default_value(options.plugin_start_timeout_ms),
       "milliseconds a plugin may take from its start to its handshake and its subscriptions")
      ("max-body-bytes", po::value(&options.max_body_bytes)->default_value(options.max_body_bytes),
       "largest request body accepted by either API (bytes)")
      ("max-connections", po::value(&options.max_connections)->default_value(options.max_connections),
       "connections each API holds open at once; more are answered 503 and closed. 0: a quarter of the "
       "descriptor limit (RLIMIT_NOFILE, raised to its hard limit at start)")
      ("max-buffered-bytes", po::value(&options.max_buffered_bytes)->default_value(options.max_buffered_bytes),
       "bytes of request and response bodies each API holds in memory at once; requests past it are "
       "answered 503")
      ("function-connect-timeout", po::value(&options.function_connect_timeout_ms)
           ->default_value(options.function_connect_timeout_ms), "milliseconds to connect to a function")
      ("function-timeout", po::value(&options.function_timeout_ms)->default_value(options.function_timeout_ms),
       "milliseconds a function call may take in all")
      ("max-hops", po::value(&options.max_hops)->default_value(options.max_hops),
       "Events API requests that passed more event gateways than this are refused (508 Loop Detected)")
      ("access-log", po::bool_switch(&options.access_log),
       "one info line per Events API request: method, path, status, duration, bytes, event, function, trace id")
      ("cross-space-events", po::bool_switch(&options.cross_space_events),
       "custom events reach subscribers in every space, as in the original gateway, not only in the "
       "event's Space");
  return description;
}

// A password on the command line shows in `ps`; the environment does not.
void read_password_from_environment(Options& options) {
  const char* password = std::getenv("EVENT_GATEWAY_DB_PASSWORD");
  if (options.db_password.empty() && !options.db_user.empty() && password != nullptr) {
    options.db_password = password;
  }
}

// A flag wins over its variable.
void read_key_files_from_environment(Options& options) {
  for (auto [file, variable] : {std::pair{&options.config_api_keys, "EVENT_GATEWAY_CONFIG_API_KEYS_FILE"},
                                std::pair{&options.events_api_keys, "EVENT_GATEWAY_EVENTS_API_KEYS_FILE"}}) {
    const char* value = std::getenv(variable);
    if (file->empty() && value != nullptr) *file = value;
  }
}

std::optional<std::string> check_values(const Options& options) {
  // "warning" is what the log prints for warn.
  if (options.log_level != "debug" && options.log_level != "info" && options.log_level != "warn" &&
      options.log_level != "warning" && options.log_level != "error") {
    return "invalid -log-level \"" + options.log_level + "\": use debug, info, warn (or warning) or error";
  }
  if (!options.log_format.empty() && options.log_format != "text" && options.log_format != "json") {
    return "invalid -log-format \"" + options.log_format + "\": use text or json";
  }
  if (options.workers == 0) return "-workers must be at least 1";
  if (options.delivery_max_attempts == 0) return "-delivery-max-attempts must be at least 1";
  if (options.delivery_initial_backoff_ms == 0) return "-delivery-initial-backoff-ms must be at least 1";
  if (options.delivery_max_backoff_ms < options.delivery_initial_backoff_ms) {
    return "-delivery-max-backoff-ms must be at least -delivery-initial-backoff-ms";
  }
  if (options.delivery_max_age_seconds == 0) return "-delivery-max-age-seconds must be at least 1";
  if (options.delivery_max_per_function == 0) return "-delivery-max-per-function must be at least 1";
  if (options.workers_backlog == 0) return "-workers-backlog must be at least 1";
  if (options.max_body_bytes == 0) return "-max-body-bytes must be at least 1";
  if (options.max_buffered_bytes < options.max_body_bytes) {
    return "-max-buffered-bytes must be at least -max-body-bytes: a body of the largest size accepted must fit";
  }
  if (options.function_connect_timeout_ms == 0 || options.function_timeout_ms == 0) {
    return "-function-connect-timeout and -function-timeout must be at least 1 ms";
  }
  if (options.config_tls_cert.empty() != options.config_tls_key.empty()) {
    return "-config-tls-cert and -config-tls-key must be given together";
  }
  if (options.events_tls_cert.empty() != options.events_tls_key.empty()) {
    return "-events-tls-cert and -events-tls-key must be given together";
  }
  if (options.db_tls_cert.empty() != options.db_tls_key.empty()) {
    return "-db-tls-cert and -db-tls-key must be given together";
  }
  if (!options.db_password.empty() && options.db_user.empty()) return "-db-password needs -db-user";
  if (options.plugin_timeout_ms == 0 || options.plugin_start_timeout_ms == 0) {
    return "-plugin-timeout and -plugin-start-timeout must be at least 1 ms";
  }
  if (options.db_timeout_ms == 0) return "-db-timeout must be at least 1 ms";
  return std::nullopt;
}

// Go's strconv.ParseBool, which the original's flags used.
std::optional<bool> go_bool(std::string_view text) {
  for (const std::string_view yes : {"1", "t", "T", "true", "True", "TRUE"}) {
    if (text == yes) return true;
  }
  for (const std::string_view no : {"0", "f", "F", "false", "False", "FALSE"}) {
    if (text == no) return false;
  }
  return std::nullopt;
}

// Go's flag package also writes a switch as -dev=true or -dev=false (the original's users type that);
// Boost's switches take no value. So, before parsing, "-dev=true" becomes "-dev" and "-dev=false"
// nothing; any other value is left for Boost to refuse.
std::vector<std::string> with_go_switches(int argc, const char* const argv[], const po::options_description& flags) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto equals = arg.find('=');
    const auto dashes = arg.find_first_not_of('-');
    const bool flag_with_value = equals != std::string_view::npos && (dashes == 1 || dashes == 2) && dashes < equals;
    const auto* flag =
        flag_with_value ? flags.find_nothrow(std::string(arg.substr(dashes, equals - dashes)), false) : nullptr;
    const auto value = flag != nullptr && flag->semantic()->max_tokens() == 0 ? go_bool(arg.substr(equals + 1))
                                                                              : std::nullopt;
    if (!value) {
      args.emplace_back(arg);
    } else if (*value) {
      args.emplace_back(arg.substr(0, equals));
    }
  }
  return args;
}

}  // namespace

ParsedCommandLine parse_command_line(int argc, const char* const argv[]) {
  ParsedCommandLine parsed;
  const auto description = describe_options(parsed.options);
  po::variables_map values;
  try {
    const auto style = po::command_line_style::unix_style | po::command_line_style::allow_long_disguise;
    const auto given =
        po::command_line_parser(with_go_switches(argc, argv, description)).options(description).style(style).run();
    // store() would drop them silently: "event-gateway -dev foo" must not run as if "foo" meant something.
    for (const auto& option : given.options) {
      if (option.position_key >= 0) {
        throw po::error("unexpected argument '" + option.value.front() + "': event-gateway takes flags only");
      }
    }
    po::store(given, values);
    po::notify(values);
    read_password_from_environment(parsed.options);
    read_key_files_from_environment(parsed.options);
  } catch (const po::error& error) {
    parsed.action = ParsedCommandLine::Action::Fail;
    parsed.message = std::string(error.what()) + " (see -help)";
    return parsed;
  }
  if (values.count("help") != 0U) {
    std::ostringstream usage;
    usage << description;
    parsed.action = ParsedCommandLine::Action::PrintAndExit;
    parsed.message = usage.str();
  } else if (values.count("version") != 0U) {
    parsed.action = ParsedCommandLine::Action::PrintAndExit;
    parsed.message = std::string("event-gateway ") + EG_VERSION + "\n";
  } else if (auto error = check_values(parsed.options)) {
    parsed.action = ParsedCommandLine::Action::Fail;
    parsed.message = *error;
  }
  return parsed;
}

}  // namespace eg::app
