#pragma once
// The AWS shared files, as the AWS SDKs read them: the credentials file (AWS_SHARED_CREDENTIALS_FILE,
// default ~/.aws/credentials), whose sections are `[name]`, and the config file (AWS_CONFIG_FILE,
// default ~/.aws/config), whose sections are `[profile name]`, and `[default]` for the default
// profile. Both are INI: `key = value` lines, `#` and `;` comment lines; the indented lines under a
// key with no value (`s3 =` followed by `  max_concurrent_requests = 10`) are a sub-section, skipped.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace eg::providers::aws {

enum class ProfileFileKind { Credentials, Config };

// Keys (lower-case as written: `aws_access_key_id`, `role_arn`, `region`, …) to values, trimmed.
using Profile = std::map<std::string, std::string, std::less<>>;

// The properties of `profile` in the text of a file of `kind`, if the file has that section. A
// section given twice has the properties of both, the later one winning.
std::optional<Profile> parse_profile(std::string_view text, std::string_view profile, ProfileFileKind kind);

// The file's text, or nothing when it cannot be read (absent, unreadable).
std::optional<std::string> read_text_file(const std::string& path);

// What the environment says about the shared files; read where functions are compiled.
struct ProfileLocation {
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials
  std::string config_path;       // AWS_CONFIG_FILE, else $HOME/.aws/config
  std::string profile;           // AWS_PROFILE, else "default"
  auto operator<=>(const ProfileLocation&) const = default;
};
ProfileLocation profile_location_from_environment();

// `key` of `profile` in the config file, or "" (for the region: `region`).
std::string config_file_value(const ProfileLocation& location, std::string_view key);

}  // namespace eg::providers::aws
