#include "providers/aws/profile_file.h"

#include <fstream>
#include <sstream>

#include "providers/aws/lookup.h"

namespace eg::providers::aws {
namespace {

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// Whether the section header's name (between the brackets, trimmed) is `profile` in a file of `kind`.
bool names_profile(std::string_view header, std::string_view profile, ProfileFileKind kind) {
  if (kind == ProfileFileKind::Credentials) return header == profile;
  if (header == "default") return profile == "default";
  if (!header.starts_with("profile") || header.size() < 8 || (header[7] != ' ' && header[7] != '\t'))
    return false;
  return trimmed(header.substr(7)) == profile;
}

}  // namespace

std::optional<Profile> parse_profile(std::string_view text, std::string_view profile, ProfileFileKind kind) {
  std::optional<Profile> found;
  bool in_profile = false;
  bool in_sub_section = false;
  std::istringstream lines{std::string(text)};
  for (std::string raw; std::getline(lines, raw);) {
    const auto line = trimmed(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (in_sub_section && indented) continue;
    in_sub_section = false;
    if (line.front() == '[') {
      in_profile =
          line.back() == ']' && names_profile(trimmed(line.substr(1, line.size() - 2)), profile, kind);
      if (in_profile && !found) found.emplace();
      continue;
    }
    const auto equals = line.find('=');
    if (!in_profile || equals == std::string_view::npos) continue;
    const auto key = std::string(trimmed(line.substr(0, equals)));
    const auto value = std::string(trimmed(line.substr(equals + 1)));
    if (value.empty()) {
      in_sub_section = true;
      continue;
    }
    (*found)[key] = value;
  }
  return found;
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::stringstream text;
  text << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return text.str();
}

ProfileLocation profile_location_from_environment() {
  ProfileLocation location{.credentials_path = environment("AWS_SHARED_CREDENTIALS_FILE"),
                           .config_path = environment("AWS_CONFIG_FILE"),
                           .profile = environment("AWS_PROFILE")};
  if (location.credentials_path.empty())
    location.credentials_path = environment("HOME") + "/.aws/credentials";
  if (location.config_path.empty()) location.config_path = environment("HOME") + "/.aws/config";
  if (location.profile.empty()) location.profile = "default";
  return location;
}

std::string config_file_value(const ProfileLocation& location, std::string_view key) {
  const auto text = read_text_file(location.config_path);
  if (!text) return {};
  const auto profile = parse_profile(*text, location.profile, ProfileFileKind::Config);
  if (!profile) return {};
  const auto value = profile->find(key);
  return value == profile->end() ? std::string() : value->second;
}

}  // namespace eg::providers::aws
