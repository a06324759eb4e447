#pragma once
// Process-wide logging through spdlog, to stderr: human-readable text in dev mode, one JSON object
// per line in production so log pipelines can parse it.

#include <string>

namespace eg::app {

enum class LogFormat { Text, Json };

// `level` is one of debug, info, warn (or warning), error (validated by the option parser).
void configure_logging(const std::string& level, LogFormat format);

}  // namespace eg::app
