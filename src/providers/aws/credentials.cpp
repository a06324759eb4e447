#include "providers/aws/credentials.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "providers/aws/lookup.h"

namespace eg::providers::aws {
namespace {

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

std::string no_credentials_message(const std::string& path, const std::string& profile) {
  return "no AWS credentials found: give the function provider.awsAccessKeyId and "
         "provider.awsSecretAccessKey, "
         "or start the gateway with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY set, or with profile \"" +
         profile + "\" in " + path + " (AWS_PROFILE chooses the profile)";
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

// One profile of one shared credentials file, read when created and again by refresh() whenever
// the file changed. current() may be called on any thread while refresh() runs on another.
class SharedCredentialsFile final : public CredentialsSource {
 public:
  SharedCredentialsFile(std::string path, std::string profile)
      : path_(std::move(path)), profile_(std::move(profile)) {
    refresh();
  }

  std::shared_ptr<const CredentialsLookup> current() const override {
    return current_.load(std::memory_order_acquire);
  }

  void refresh() {
    std::lock_guard lock(refresh_mutex_);
    const auto before = stamp_of(path_);
    if (read_ && before == stamp_) return;
    const bool first_read = !read_;
    auto read = read_file();
    // A file that changed while it was read may have been read half-written: look again next time.
    stamp_ = stamp_of(path_) == before ? before : FileStamp{.size = -1};
    read_ = true;
    const auto previous = current_.load(std::memory_order_relaxed);
    if (!read && previous && std::holds_alternative<ResolvedCredentials>(*previous)) {
      // Most likely a rewrite caught in the middle; if they are really gone, AWS will say so.
      spdlog::warn(
          "{} no longer holds AWS credentials for profile \"{}\": calls keep using those read before", path_,
          profile_);
      return;
    }
    if (!first_read && read)
      spdlog::info("AWS credentials read again from profile \"{}\" in {}", profile_, path_);
    current_.store(std::make_shared<const CredentialsLookup>(
                       read ? CredentialsLookup(std::move(*read))
                            : CredentialsLookup(no_credentials_message(path_, profile_))),
                   std::memory_order_release);
  }

 private:
  std::optional<ResolvedCredentials> read_file() const {
    std::ifstream file(path_);
    if (!file) return std::nullopt;
    std::stringstream text;
    text << file.rdbuf();
    auto credentials = parse_shared_credentials(text.str(), profile_);
    if (!credentials) return std::nullopt;
    return ResolvedCredentials{std::move(*credentials), "profile \"" + profile_ + "\" in " + path_};
  }

  const std::string path_;
  const std::string profile_;
  std::mutex refresh_mutex_;  // guards stamp_ and read_: the compiling thread and the watcher both refresh
  FileStamp stamp_;
  bool read_ = false;
  std::atomic<std::shared_ptr<const CredentialsLookup>> current_;
};

// The shared credentials files in use, one source per file and profile, and the thread that keeps
// them up to date. Started with the first file, stopped and joined at exit.
class SharedFileWatcher {
 public:
  static SharedFileWatcher& instance() {
    static SharedFileWatcher watcher;
    return watcher;
  }

  std::shared_ptr<const CredentialsSource> source(const std::string& path, const std::string& profile) {
    std::lock_guard lock(mutex_);
    auto& slot = files_[{path, profile}];
    if (auto live = slot.lock()) return live;
    auto created = std::make_shared<SharedCredentialsFile>(path, profile);
    slot = created;
    if (!thread_.joinable()) {
      thread_ = std::jthread([this](std::stop_token stop) {
        pthread_setname_np(pthread_self(), "aws-credentials");  // for top -H and gdb
        std::mutex sleep_mutex;
        std::unique_lock sleep(sleep_mutex);
        // Sleeps the interval out unless the stop request wakes it (nothing else notifies wake_).
        while (!wake_.wait_for(sleep, stop, kSharedFileCheckInterval,
                               [&stop] { return stop.stop_requested(); })) {
          refresh_all();
        }
      });
    }
    return created;
  }

  void refresh_all() {
    std::vector<std::shared_ptr<SharedCredentialsFile>> live;
    {
      std::lock_guard lock(mutex_);
      for (auto file = files_.begin(); file != files_.end();) {
        if (auto source = file->second.lock()) {
          live.push_back(std::move(source));
          ++file;
        } else {
          file = files_.erase(file);  // no function uses it any more
        }
      }
    }
    for (const auto& file : live) file->refresh();
  }

 private:
  SharedFileWatcher() = default;

  std::mutex mutex_;  // guards files_ and the start of thread_
  std::map<std::pair<std::string, std::string>, std::weak_ptr<SharedCredentialsFile>> files_;
  std::condition_variable_any wake_;  // woken only by the stop request
  std::jthread thread_;               // last: stopped and joined before the members it uses go
};

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

std::shared_ptr<const CredentialsSource> credentials_source(const boost::json::object& settings) {
  if (auto credentials = from_settings(settings))
    return std::make_shared<const FixedCredentials>(std::move(*credentials));
  if (auto credentials = from_environment())
    return std::make_shared<const FixedCredentials>(std::move(*credentials));
  return SharedFileWatcher::instance().source(shared_credentials_path(), profile_name());
}

void refresh_shared_credentials_files() { SharedFileWatcher::instance().refresh_all(); }

CredentialsLookup resolve_credentials(const boost::json::object& settings) {
  return *credentials_source(settings)->current();
}

}  // namespace eg::providers::aws
