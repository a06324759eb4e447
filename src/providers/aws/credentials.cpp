#include "providers/aws/credentials.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "common/rate_limited_log.h"
#include "providers/aws/credential_sources.h"
#include "providers/aws/lookup.h"
#include "providers/aws/profile_file.h"

namespace eg::providers::aws {
namespace {

using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

// A role chain (role_arn whose source_profile has a role_arn, …) longer than this is refused: it is a
// loop, most likely.
constexpr int kMaxRoleChain = 5;

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

// The function's own credentials, or the environment's: they never change.
class FixedCredentials final : public CredentialsSource {
 public:
  explicit FixedCredentials(ResolvedCredentials credentials)
      : current_(std::make_shared<const CredentialsLookup>(std::move(credentials))) {}
  std::shared_ptr<const CredentialsLookup> current() const override { return current_; }

 private:
  const std::shared_ptr<const CredentialsLookup> current_;
};

// What the environment says about sources 3 to 6 of the chain: read once, where the function is
// compiled, so that the refresher thread never reads the environment.
struct ChainSettings {
  ProfileLocation files;
  std::string web_identity_token_file;  // AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn;                 // AWS_ROLE_ARN
  std::string role_session_name;        // AWS_ROLE_SESSION_NAME
  std::string container_full_uri;       // AWS_CONTAINER_CREDENTIALS_FULL_URI
  std::string container_relative_uri;   // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  std::string container_token;          // AWS_CONTAINER_AUTHORIZATION_TOKEN
  std::string container_token_file;     // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
  bool metadata_disabled = false;       // AWS_EC2_METADATA_DISABLED=true
  std::string metadata_endpoint;        // AWS_EC2_METADATA_SERVICE_ENDPOINT
  std::string sts_endpoint;             // AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL
  std::string region;                   // AWS_REGION, else AWS_DEFAULT_REGION
  auto operator<=>(const ChainSettings&) const = default;
};

ChainSettings chain_settings_from_environment() {
  ChainSettings settings{.files = profile_location_from_environment(),
                         .web_identity_token_file = environment("AWS_WEB_IDENTITY_TOKEN_FILE"),
                         .role_arn = environment("AWS_ROLE_ARN"),
                         .role_session_name = environment("AWS_ROLE_SESSION_NAME"),
                         .container_full_uri = environment("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
                         .container_relative_uri = environment("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
                         .container_token = environment("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                         .container_token_file = environment("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
                         .metadata_endpoint = environment("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
                         .sts_endpoint = environment("AWS_ENDPOINT_URL_STS"),
                         .region = environment("AWS_REGION")};
  auto disabled = environment("AWS_EC2_METADATA_DISABLED");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  settings.metadata_disabled = disabled == "true";
  if (settings.metadata_endpoint.empty()) settings.metadata_endpoint = std::string(kDefaultMetadataEndpoint);
  if (settings.sts_endpoint.empty()) settings.sts_endpoint = environment("AWS_ENDPOINT_URL");
  if (settings.region.empty()) settings.region = environment("AWS_DEFAULT_REGION");
  return settings;
}

std::string no_credentials_message(const ProfileLocation& files) {
  return "no AWS credentials found: give the function provider.awsAccessKeyId and "
         "provider.awsSecretAccessKey, "
         "or start the gateway with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, or with profile \"" +
         files.profile + "\" in " + files.credentials_path + " or " + files.config_path +
         " (AWS_PROFILE chooses the profile), or with a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE "
         "and AWS_ROLE_ARN), or in a container with AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI, "
         "or on an EC2 instance with an instance profile";
}

// Credentials and where they came from.
struct Sourced {
  FetchedCredentials fetched;
  std::string source;
};
using ChainResult = std::variant<Sourced, std::string>;

ChainResult with_source(FetchResult result, std::string source) {
  if (auto* error = std::get_if<std::string>(&result)) return std::move(*error);
  return Sourced{std::move(std::get<FetchedCredentials>(result)), std::move(source)};
}

std::string session_name(const std::string& configured) {
  if (!configured.empty()) return configured;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch());
  return "event-gateway-" + std::to_string(ms.count());  // as the SDKs do: "botocore-session-<time>"
}

StsEndpoint sts_endpoint(const ChainSettings& settings, const std::string& profile_region) {
  StsEndpoint sts{.url = settings.sts_endpoint,
                  .region = !settings.region.empty() ? settings.region : profile_region};
  if (sts.region.empty()) sts.region = "us-east-1";
  if (sts.url.empty()) {
    sts.url = "https://sts." + sts.region +
              (sts.region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
  }
  while (sts.url.ends_with('/')) sts.url.pop_back();
  return sts;
}

// One profile as the SDKs see it: the config file's section, the credentials file's over it.
struct ProfileView {
  Profile credentials_file;
  Profile config_file;
  bool exists = false;
  std::string get(std::string_view key) const {
    if (auto found = credentials_file.find(key); found != credentials_file.end()) return found->second;
    if (auto found = config_file.find(key); found != config_file.end()) return found->second;
    return {};
  }
};

ProfileView read_profile(const ProfileLocation& files, const std::string& name) {
  ProfileView view;
  if (const auto text = read_text_file(files.credentials_path)) {
    if (auto profile = parse_profile(*text, name, ProfileFileKind::Credentials)) {
      view.credentials_file = std::move(*profile);
      view.exists = true;
    }
  }
  if (const auto text = read_text_file(files.config_path)) {
    if (auto profile = parse_profile(*text, name, ProfileFileKind::Config)) {
      view.config_file = std::move(*profile);
      view.exists = true;
    }
  }
  return view;
}

// The profile's own keys, the credentials file's first.
std::optional<Sourced> profile_keys(const ProfileLocation& files, const std::string& name,
                                    const ProfileView& profile) {
  for (const auto& [properties, path] : {std::pair{&profile.credentials_file, &files.credentials_path},
                                         std::pair{&profile.config_file, &files.config_path}}) {
    const auto value = [keys_in = properties](std::string_view key) {
      const auto found = keys_in->find(key);
      return found == keys_in->end() ? std::string() : found->second;
    };
    Credentials keys{.access_key_id = value("aws_access_key_id"),
                     .secret_access_key = value("aws_secret_access_key"),
                     .session_token = value("aws_session_token")};
    if (!keys.access_key_id.empty() && !keys.secret_access_key.empty())
      return Sourced{{std::move(keys), std::nullopt}, "profile \"" + name + "\" in " + *path};
  }
  return std::nullopt;
}

// Source 4: nothing when the profile holds no credentials of any kind.
std::optional<ChainResult> from_profile(const ChainSettings& settings, const std::string& name, int depth) {
  const auto profile = read_profile(settings.files, name);
  const auto where = "profile \"" + name + "\"";
  if (const auto role_arn = profile.get("role_arn"); !role_arn.empty()) {
    const auto source_name = profile.get("source_profile");
    if (!profile.get("credential_source").empty() && source_name.empty())
      return ChainResult(where +
                         " has credential_source, which the gateway does not support: use source_profile");
    if (source_name.empty()) return ChainResult(where + " has role_arn but no source_profile");
    if (depth >= kMaxRoleChain)
      return ChainResult(where + ": role_arn and source_profile chain more than " +
                         std::to_string(kMaxRoleChain) + " profiles");
    // A profile that is its own source signs with its own keys (the SDKs allow it).
    std::optional<ChainResult> source;
    if (source_name == name) {
      if (auto keys = profile_keys(settings.files, name, profile)) source = std::move(*keys);
    } else {
      source = from_profile(settings, source_name, depth + 1);
    }
    if (!source) return ChainResult(where + ": source_profile \"" + source_name + "\" holds no credentials");
    if (std::holds_alternative<std::string>(*source)) return std::move(*source);
    const auto& signer = std::get<Sourced>(*source);
    const RoleRequest role{.role_arn = role_arn,
                           .session_name = session_name(profile.get("role_session_name")),
                           .external_id = profile.get("external_id"),
                           .duration_seconds = profile.get("duration_seconds")};
    return with_source(
        assume_role(sts_endpoint(settings, profile.get("region")), role, signer.fetched.credentials),
        "role " + role_arn + " of " + where + ", assumed with " + signer.source);
  }
  if (const auto command = profile.get("credential_process"); !command.empty())
    return with_source(run_credential_process(command), "credential_process of " + where);
  if (auto keys = profile_keys(settings.files, name, profile)) return ChainResult(std::move(*keys));
  return std::nullopt;
}

std::string trimmed_token(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

ChainResult from_web_identity(const ChainSettings& settings) {
  const auto token = read_text_file(settings.web_identity_token_file);
  if (!token) return "the web identity token file " + settings.web_identity_token_file + " cannot be read";
  const RoleRequest role{.role_arn = settings.role_arn,
                         .session_name = session_name(settings.role_session_name)};
  const auto region = config_file_value(settings.files, "region");
  return with_source(
      assume_role_with_web_identity(sts_endpoint(settings, region), role, trimmed_token(*token)),
      "role " + settings.role_arn + " assumed with the web identity token in " +
          settings.web_identity_token_file);
}

ChainResult from_container(const ChainSettings& settings) {
  auto url = container_credentials_url(settings.container_full_uri, settings.container_relative_uri);
  if (url.index() == 1) return std::get<1>(url);
  auto authorization = settings.container_token;
  if (!settings.container_token_file.empty()) {
    const auto token = read_text_file(settings.container_token_file);
    if (!token)
      return "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + settings.container_token_file + " cannot be read";
    authorization = trimmed_token(*token);
  }
  const auto& target = std::get<0>(url);
  return with_source(fetch_container_credentials(target, authorization),
                     "the container credentials endpoint " + target);
}

// The chain from source 3 on, as it stands now.
ChainResult fetch_chain(const ChainSettings& settings) {
  if (!settings.web_identity_token_file.empty() && !settings.role_arn.empty())
    return from_web_identity(settings);
  if (auto profile = from_profile(settings, settings.files.profile, 0)) return std::move(*profile);
  if (!settings.container_full_uri.empty() || !settings.container_relative_uri.empty())
    return from_container(settings);
  if (settings.metadata_disabled) return no_credentials_message(settings.files);
  auto metadata = with_source(fetch_instance_metadata_credentials(settings.metadata_endpoint),
                              "the EC2 instance metadata service at " + settings.metadata_endpoint);
  if (auto* error = std::get_if<std::string>(&metadata))
    return no_credentials_message(settings.files) + " (" + *error + ")";
  return metadata;
}

// What a file looked like when it was read: a rewrite, a replacement (rename, or a symlink swapped as
// Kubernetes does with mounted secrets) or a removal changes it.
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t modified_ns = 0;
  std::int64_t changed_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return {};
  const auto ns = [](const timespec& time) {
    return std::int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec;
  };
  return FileStamp{.exists = true,
                   .device = status.st_dev,
                   .inode = status.st_ino,
                   .size = status.st_size,
                   .modified_ns = ns(status.st_mtim),
                   .changed_ns = ns(status.st_ctim)};
}

std::string time_text(Clock::time_point time) {
  const auto seconds = Clock::to_time_t(time);
  std::tm parts{};
  char text[32];
  if (::gmtime_r(&seconds, &parts) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0)
    return "?";
  return text;
}

// Sources 3 to 6 for one environment: fetched when created, then by refresh_if_due (the refresher
// thread, or a test) when due. current() may be called on any thread meanwhile.
class ChainCredentials final : public CredentialsSource {
 public:
  explicit ChainCredentials(ChainSettings settings)
      : settings_(std::move(settings)), failure_log_("fetching AWS credentials failed", 5min) {
    std::lock_guard lock(mutex_);
    fetch(Clock::now());
  }

  std::shared_ptr<const CredentialsLookup> current() const override {
    return current_.load(std::memory_order_acquire);
  }

  // Fetches again if a shared file changed or the refresh is due; returns when to be asked next.
  Clock::time_point refresh_if_due() {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (now >= next_fetch_ || stamps() != stamps_) fetch(now);
    return next_fetch_;
  }

 private:
  std::pair<FileStamp, FileStamp> stamps() const {
    return {stamp_of(settings_.files.credentials_path), stamp_of(settings_.files.config_path)};
  }

  void publish(CredentialsLookup lookup) {
    current_.store(std::make_shared<const CredentialsLookup>(std::move(lookup)), std::memory_order_release);
  }

  void fetch(Clock::time_point now) {
    const auto before = stamps();
    auto result = fetch_chain(settings_);
    // A file that changed while it was read may have been read half-written: read it again next time.
    stamps_ = stamps() == before ? before : std::pair<FileStamp, FileStamp>{};
    now = Clock::now();
    if (auto* sourced = std::get_if<Sourced>(&result)) {
      succeeded(std::move(*sourced), now);
    } else {
      failed(std::get<std::string>(result), now);
    }
  }

  void succeeded(Sourced sourced, Clock::time_point now) {
    const auto& expiration = sourced.fetched.expiration;
    if (sourced.source != last_source_ || failures_ > 0 || expiration) {
      spdlog::info("AWS credentials from {} (access key {}{}{})", sourced.source,
                   sourced.fetched.credentials.access_key_id, expiration ? ", until " : "",
                   expiration ? time_text(*expiration) : "");
    }
    failures_ = 0;
    good_until_ = expiration.value_or(Clock::time_point::max());
    next_fetch_ = expiration ? refresh_time(now, *expiration) : Clock::time_point::max();
    last_source_ = sourced.source;
    has_good_ = true;
    publish(ResolvedCredentials{std::move(sourced.fetched.credentials), std::move(sourced.source)});
  }

  void failed(const std::string& error, Clock::time_point now) {
    ++failures_;
    next_fetch_ = now + retry_delay(failures_);
    if (has_good_ && now < good_until_) {
      // Most likely a passing outage, or a file caught half-written: if the old credentials are
      // really no good any more, AWS will say so.
      next_fetch_ = std::min(next_fetch_, good_until_);
      failure_log_.note(error + "; calls keep using those from " + last_source_ +
                        (good_until_ == Clock::time_point::max() ? "" : " until " + time_text(good_until_)));
      return;
    }
    if (has_good_) {
      publish("the AWS credentials from " + last_source_ + " expired at " + time_text(good_until_) +
              " and could not be fetched again: " + error);
      has_good_ = false;
    } else {
      publish(error);
    }
    failure_log_.note(error);
  }

  const ChainSettings settings_;
  std::atomic<std::shared_ptr<const CredentialsLookup>> current_;
  common::RateLimitedWarning failure_log_;
  std::mutex mutex_;  // guards what follows: the compiling thread, the refresher and tests all fetch
  std::pair<FileStamp, FileStamp> stamps_;
  Clock::time_point next_fetch_;
  Clock::time_point good_until_;
  bool has_good_ = false;
  int failures_ = 0;
  std::string last_source_;
};

// The chain sources in use, one per environment, and the thread that refreshes them. Started with
// the first source, stopped and joined at exit.
class Refresher {
 public:
  static Refresher& instance() {
    static Refresher refresher;
    return refresher;
  }

  std::shared_ptr<const CredentialsSource> source(const ChainSettings& settings) {
    std::lock_guard lock(mutex_);
    auto& slot = sources_[settings];
    if (auto live = slot.lock()) return live;
    auto created = std::make_shared<ChainCredentials>(settings);  // fetches: may block for a while
    slot = created;
    rescheduled_ = true;  // it may be due before the thread would wake
    wake_.notify_all();
    if (!thread_.joinable()) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
    return created;
  }

  // Refreshes what is due; returns when something is due next (kSharedFileCheckInterval at most).
  Clock::time_point refresh_all() {
    auto next = Clock::now() + kSharedFileCheckInterval;
    for (const auto& source : live_sources()) next = std::min(next, source->refresh_if_due());
    return next;
  }

 private:
  Refresher() = default;

  std::vector<std::shared_ptr<ChainCredentials>> live_sources() {
    std::vector<std::shared_ptr<ChainCredentials>> live;
    std::lock_guard lock(mutex_);
    for (auto entry = sources_.begin(); entry != sources_.end();) {
      if (auto source = entry->second.lock()) {
        live.push_back(std::move(source));
        ++entry;
      } else {
        entry = sources_.erase(entry);  // no function uses it any more
      }
    }
    return live;
  }

  void run(std::stop_token stop) {
    pthread_setname_np(pthread_self(), "aws-credentials");  // for top -H and gdb
    while (!stop.stop_requested()) {
      const auto next = refresh_all();
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, stop, next, [this] { return rescheduled_; });
      rescheduled_ = false;
    }
  }

  std::mutex mutex_;  // guards sources_, rescheduled_ and the start of thread_
  std::map<ChainSettings, std::weak_ptr<ChainCredentials>> sources_;
  bool rescheduled_ = false;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined before the members it uses go
};

}  // namespace

Clock::time_point refresh_time(Clock::time_point now, Clock::time_point expiration) {
  if (const auto ahead = expiration - kRefreshMargin; ahead > now) return ahead;
  const auto left = std::chrono::duration_cast<Clock::duration>(expiration - now) / 4;
  return now + std::clamp<Clock::duration>(left, 1s, 1min);
}

std::chrono::seconds retry_delay(int failures) {
  return std::min<std::chrono::seconds>(1min, std::chrono::seconds(1L << std::clamp(failures - 1, 0, 6)));
}

std::optional<Credentials> parse_shared_credentials(std::string_view text, std::string_view profile) {
  const auto properties = parse_profile(text, profile, ProfileFileKind::Credentials);
  if (!properties) return std::nullopt;
  const auto value = [&properties](std::string_view key) {
    const auto found = properties->find(key);
    return found == properties->end() ? std::string() : found->second;
  };
  Credentials credentials{.access_key_id = value("aws_access_key_id"),
                          .secret_access_key = value("aws_secret_access_key"),
                          .session_token = value("aws_session_token")};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) return std::nullopt;
  return credentials;
}

std::shared_ptr<const CredentialsSource> credentials_source(const boost::json::object& settings) {
  if (auto credentials = from_settings(settings))
    return std::make_shared<const FixedCredentials>(std::move(*credentials));
  if (auto credentials = from_environment())
    return std::make_shared<const FixedCredentials>(std::move(*credentials));
  return Refresher::instance().source(chain_settings_from_environment());
}

void refresh_credentials_in_use() { Refresher::instance().refresh_all(); }

CredentialsLookup resolve_credentials(const boost::json::object& settings) {
  return *credentials_source(settings)->current();
}

}  // namespace eg::providers::aws
