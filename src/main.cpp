// event-gateway: parses the command line, sets up logging and runs the gateway.

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "app/gateway.h"
#include "app/listen_check.h"
#include "app/logging.h"
#include "app/options.h"
#include "app/security.h"
#include "net/tls_server.h"

int main(int argc, char* argv[]) {
  using eg::app::ParsedCommandLine;
  const auto parsed = eg::app::parse_command_line(argc, argv);
  switch (parsed.action) {
    case ParsedCommandLine::Action::PrintAndExit:
      std::fputs(parsed.message.c_str(), stdout);
      return 0;
    case ParsedCommandLine::Action::Fail:
      std::fprintf(stderr, "event-gateway: %s\n", parsed.message.c_str());
      return 2;
    case ParsedCommandLine::Action::Run:
      break;
  }
  auto options = parsed.options;
  if (options.hash_key) return eg::app::print_key_line(stdin, stdout, stderr);
  const bool json_logs = options.log_format == "json" || (options.log_format.empty() && !options.dev);
  eg::app::configure_logging(options.log_level, json_logs ? eg::app::LogFormat::Json : eg::app::LogFormat::Text);
  for (const auto& warning : options.warnings) spdlog::warn("{}", warning);
  // Resolved before the security settings, which judge whether the APIs are reachable from elsewhere.
  try {
    options.listen_ips = eg::app::resolve_listen_address(options.listen_address);
  } catch (const eg::app::ListenError& error) {
    spdlog::critical("cannot start: {}", error.what());
    return 1;
  }
  std::string security_error;
  auto security = eg::app::load_security(options, security_error);
  if (!security) {
    std::fprintf(stderr, "event-gateway: %s\n", security_error.c_str());
    return 2;
  }
  try {
    eg::app::Gateway gateway(options, std::move(*security));
    return gateway.run();
  } catch (const eg::net::TlsFileError& error) {
    // A bad file named on the command line is a usage error, like a bad flag.
    std::fprintf(stderr, "event-gateway: %s\n", error.what());
    return 2;
  } catch (const std::exception& error) {
    spdlog::critical("cannot start: {}", error.what());
    return 1;
  }
}
