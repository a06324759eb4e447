#include "app/options.h"

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
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
       "password of -db-user (prefer its variable, EVENT_GATEWAY_DB_PASSWORD: ps shows flags)")
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
       "(docs/security.md)")
      ("events-api-keys", po::value(&options.events_api_keys),
       "file of API key digests: custom events and invoke need a key of their space "
       "(docs/security.md)")
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
  if (!options.db_password.empty() && options.db_user.empty()) {
    return "-db-password (or EVENT_GATEWAY_DB_PASSWORD) needs -db-user (or EVENT_GATEWAY_DB_USER)";
  }
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
// nothing; any other value is left for Boost to refuse. A switch turned off so is remembered, since
// it was given all the same: its variable must not turn it back on.
struct GoSwitches {
  std::vector<std::string> args;
  std::set<std::string> turned_off;
};

GoSwitches with_go_switches(int argc, const char* const argv[], const po::options_description& flags) {
  GoSwitches result;
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
      result.args.emplace_back(arg);
    } else if (*value) {
      result.args.emplace_back(arg.substr(0, equals));
    } else {
      result.turned_off.insert(flag->long_name());
    }
  }
  return result;
}

// Every flag that sets something can also be set by its variable, EVENT_GATEWAY_ and the flag's name
// in capitals with '_' for '-' (EVENT_GATEWAY_DB_HOSTS for -db-hosts), so that a container or a
// service unit is configured without a command line (docs/install.md#environment-variables).
constexpr std::string_view kVariablePrefix = "EVENT_GATEWAY_";

// The names these flags had as variables before every flag had one.
const std::map<std::string, std::string, std::less<>> kVariableAliases = {
    {"EVENT_GATEWAY_CONFIG_API_KEYS_FILE", "config-api-keys"},
    {"EVENT_GATEWAY_EVENTS_API_KEYS_FILE", "events-api-keys"},
};

// Variables of the prefix that others read, in environments the gateway inherits: the Node SDK's key
// (its tests and its users' shells set it beside a gateway) and go-plugin's cookie, which the gateway
// sets for its plugins. Neither is a mistake, so neither is warned about.
const std::set<std::string, std::less<>> kOthersVariables = {"EVENT_GATEWAY_API_KEY",
                                                              "EVENT_GATEWAY_MAGIC_COOKIE"};

// Flags that do something and exit rather than set something: no variable asks for them.
bool is_action(const std::string& flag) {
  return flag == "help" || flag == "version" || flag == "hash-key";
}

std::string variable_of(const std::string& flag) {
  std::string variable(kVariablePrefix);
  for (const char c : flag) {
    variable += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return variable;
}

// The flag a variable sets, or "" when it sets none.
std::string flag_of(std::string_view variable, const po::options_description& flags) {
  const auto alias = kVariableAliases.find(variable);
  if (alias != kVariableAliases.end()) return alias->second;
  if (variable.size() == kVariablePrefix.size()) return "";
  std::string flag;
  for (const char c : variable.substr(kVariablePrefix.size())) {
    flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto* description = flags.find_nothrow(flag, false);
  // Only the variable spelled as variable_of() spells it: EVENT_GATEWAY_Dev is not EVENT_GATEWAY_DEV.
  if (description == nullptr || is_action(flag) || variable_of(flag) != variable) return "";
  return flag;
}

// What the variable's value stands for, as tokens of its flag: a switch takes Go's true or false (as
// -dev=true does), a repeatable flag (-plugin) a comma-separated list, one item per flag given.
std::vector<std::string> tokens_of(const std::string& variable, const std::string& value,
                                   const po::option_description& flag) {
  if (flag.semantic()->max_tokens() == 0) {
    const auto on = go_bool(value);
    if (!on) {
      throw po::error(variable + "=" + value + ": a switch's variable is true or false (Go's spellings)");
    }
    return {*on ? "true" : "false"};
  }
  if (!flag.semantic()->is_composing()) return {value};
  std::vector<std::string> items;
  std::string_view rest = value;
  for (auto comma = rest.find(',');; comma = rest.find(',')) {
    items.emplace_back(rest.substr(0, comma));
    if (items.back().empty()) {
      throw po::error(variable + "=" + value + ": an empty item in its comma-separated list");
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return items;
}

// Stores the flags the variables of `environment` ("NAME=value") set, but for those in `given` (the
// command line's: a flag wins over its variable, its whole list for a repeatable one). A variable of
// the prefix that sets no flag is ignored with a warning rather than refused: environments are
// inherited, and others use the prefix too (kOthersVariables).
void store_environment(const std::vector<std::string>& environment, const po::options_description& flags,
                       const std::set<std::string>& given, po::variables_map& values, Options& options) {
  std::map<std::string, std::string> variable_of_flag;  // which variable set each flag, for conflicts
  std::vector<std::string> sorted(environment);
  std::sort(sorted.begin(), sorted.end());  // warnings and conflicts in a stable order
  for (const auto& entry : sorted) {
    const auto equals = entry.find('=');
    if (!entry.starts_with(kVariablePrefix) || equals == std::string::npos) continue;
    const auto variable = entry.substr(0, equals);
    const auto value = entry.substr(equals + 1);
    if (kOthersVariables.contains(variable)) continue;
    const auto flag = flag_of(variable, flags);
    if (flag.empty()) {
      options.warnings.push_back("the environment variable " + variable +
                                 " sets no flag and is ignored (every flag's variable is listed by -help)");
      continue;
    }
    if (given.contains(flag)) continue;
    if (const auto [earlier, fresh] = variable_of_flag.emplace(flag, variable); !fresh) {
      throw po::error(earlier->second + " and " + variable + " both set -" + flag + ": unset one of them");
    }
    const auto& description = flags.find(flag, false);
    po::parsed_options parsed(&flags);
    parsed.options.emplace_back(flag, tokens_of(variable, value, description));
    try {
      po::store(parsed, values);
    } catch (const po::error& error) {
      throw po::error("the environment variable " + variable + ": " + error.what());
    }
  }
}

// The end of -help: how the variables work, and each one's name.
std::string variables_help(const po::options_description& flags) {
  std::string text =
      "\nEnvironment variables: every flag but -help, -version and -hash-key can be set by EVENT_GATEWAY_\n"
      "and its name in capitals, '_' for '-' (EVENT_GATEWAY_DB_HOSTS=10.0.0.1:2379 for -db-hosts); a flag\n"
      "given wins over its variable. A switch's variable is true or false (EVENT_GATEWAY_DEV=true); a\n"
      "repeatable flag's is a comma-separated list (EVENT_GATEWAY_PLUGIN=/opt/a,/opt/b). Other\n"
      "EVENT_GATEWAY_* variables are ignored with a warning. The variables:\n";
  std::string line = " ";
  for (const auto& flag : flags.options()) {
    if (is_action(flag->long_name())) continue;
    const auto variable = variable_of(flag->long_name());
    if (line.size() + variable.size() + 1 > 106) {
      text += line + "\n";
      line = " ";
    }
    line += " " + variable;
  }
  return text + line + "\n";
}

std::vector<std::string> environment_of_this_process() {
  std::vector<std::string> environment;
  for (char** variable = environ; *variable != nullptr; ++variable) environment.emplace_back(*variable);
  return environment;
}

}  // namespace

ParsedCommandLine parse_command_line(int argc, const char* const argv[]) {
  return parse_command_line(argc, argv, environment_of_this_process());
}

ParsedCommandLine parse_command_line(int argc, const char* const argv[],
                                     const std::vector<std::string>& environment) {
  ParsedCommandLine parsed;
  const auto description = describe_options(parsed.options);
  po::variables_map values;
  try {
    const auto style = po::command_line_style::unix_style | po::command_line_style::allow_long_disguise;
    auto switches = with_go_switches(argc, argv, description);
    const auto given = po::command_line_parser(switches.args).options(description).style(style).run();
    // store() would drop them silently: "event-gateway -dev foo" must not run as if "foo" meant something.
    for (const auto& option : given.options) {
      if (option.position_key >= 0) {
        throw po::error("unexpected argument '" + option.value.front() + "': event-gateway takes flags only");
      }
    }
    po::store(given, values);
    // -help and -version answer whatever the environment holds.
    if (values.count("help") == 0U && values.count("version") == 0U) {
      auto& on_command_line = switches.turned_off;
      for (const auto& option : given.options) on_command_line.insert(option.string_key);
      store_environment(environment, description, on_command_line, values, parsed.options);
    }
    po::notify(values);
  } catch (const po::error& error) {
    parsed.action = ParsedCommandLine::Action::Fail;
    parsed.message = std::string(error.what()) + " (see -help)";
    return parsed;
  }
  if (values.count("help") != 0U) {
    std::ostringstream usage;
    usage << description << variables_help(description);
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
