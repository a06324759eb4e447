#include "providers/aws/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace eg::providers::aws {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string string_setting(const boost::json::object& settings, std::string_view name) {
  const auto* value = settings.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::optional<ResolvedCredentials> from_settings(const boost::json::object& settings) {
  Credentials credentials{.access_key_id = string_setting(settings, "awsAccessKeyId"),
                          .secret_access_key = string_setting(settings, "awsSecretAccessKey"),
                          .session_token = string_setting(settings, "awsSessionToken")};
  if (credentials.access_key_id.empty()) return std::nullopt;
  return ResolvedCredentials{std::move(credentials), "provider.awsAccessKeyId"};
}

std::optional<ResolvedCredentials> from_environment() {
  Credentials credentials{.access_key_id = environment("AWS_ACCESS_KEY_ID"),
                          .secret_access_key = environment("AWS_SECRET_ACCESS_KEY"),
                          .session_token = environment("AWS_SESSION_TOKEN")};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) return std::nullopt;
  return ResolvedCredentials{std::move(credentials), "AWS_ACCESS_KEY_ID"};
}

std::string shared_credentials_path() {
  if (auto path = environment("AWS_SHARED_CREDENTIALS_FILE"); !path.empty()) return path;
  return environment("HOME") + "/.aws/credentials";
}

std::string profile_name() {
  auto profile = environment("AWS_PROFILE");
  return profile.empty() ? "default" : profile;
}

std::optional<ResolvedCredentials> from_shared_file(const std::string& path, const std::string& profile) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::stringstream text;
  text << file.rdbuf();
  auto credentials = parse_shared_credentials(text.str(), profile);
  if (!credentials) return std::nullopt;
  return ResolvedCredentials{std::move(*credentials), "profile \"" + profile + "\" in " + path};
}

}  // namespace

std::optional<Credentials> parse_shared_credentials(std::string_view text, std::string_view profile) {
  Credentials credentials;
  bool in_profile = false;
  std::istringstream lines{std::string(text)};
  for (std::string raw; std::getline(lines, raw);) {
    const auto line = trimmed(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      in_profile = line.back() == ']' && trimmed(line.substr(1, line.size() - 2)) == profile;
      continue;
    }
    const auto equals = line.find('=');
    if (!in_profile || equals == std::string_view::npos) continue;
    const auto key = trimmed(line.substr(0, equals));
    const auto value = std::string(trimmed(line.substr(equals + 1)));
    if (key == "aws_access_key_id") credentials.access_key_id = value;
    if (key == "aws_secret_access_key") credentials.secret_access_key = value;
    if (key == "aws_session_token") credentials.session_token = value;
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) return std::nullopt;
  return credentials;
}

std::variant<ResolvedCredentials, std::string> resolve_credentials(const boost::json::object& settings) {
  if (auto credentials = from_settings(settings)) return std::move(*credentials);
  if (auto credentials = from_environment()) return std::move(*credentials);
  const auto path = shared_credentials_path();
  const auto profile = profile_name();
  if (auto credentials = from_shared_file(path, profile)) return std::move(*credentials);
  return "no AWS credentials found: give the function provider.awsAccessKeyId and "
         "provider.awsSecretAccessKey, "
         "or start the gateway with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, or with profile \"" +
         profile + "\" in " + path + " (AWS_PROFILE chooses the profile)";
}

}  // namespace eg::providers::aws
