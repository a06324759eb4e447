#include "providers/aws/credential_sources.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/json.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sstream>

#include "providers/aws/blocking_http.h"

extern char** environ;

namespace eg::providers::aws {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::chrono::milliseconds kStsTimeout{10000};
// The SDKs give the metadata and container endpoints one second per attempt; one attempt of two
// seconds here, since a refresh that fails is tried again soon (credentials.cpp).
constexpr std::chrono::milliseconds kLinkLocalTimeout{2000};
constexpr std::size_t kMaxProcessOutput = 64 * 1024;

std::string form_encoded(std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (value.empty()) continue;
    if (!body.empty()) body += '&';
    body += uri_encode(name) + "=" + uri_encode(value);
  }
  return body;
}

std::string excerpt(std::string_view text) {
  constexpr std::size_t kLimit = 200;
  return std::string(text.substr(0, kLimit)) + (text.size() > kLimit ? "…" : "");
}

FetchResult call_sts(const StsEndpoint& sts, std::string_view action, std::string body,
                     const Credentials* signing_credentials) {
  const auto parsed = boost::urls::parse_absolute_uri(sts.url);
  if (!parsed) return "invalid STS endpoint " + sts.url;
  SignableRequest request{.method = "POST", .path = std::string(parsed->encoded_path()) + "/", .body = body};
  request.headers.emplace_back("Host", std::string(parsed->encoded_authority()));
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  if (signing_credentials != nullptr) sign(request, *signing_credentials, sts.region, "sts", Clock::now());

  BlockingRequest outbound{
      .method = "POST",
      .url = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_authority()) + request.path,
      .body = std::move(request.body),
      .timeout = kStsTimeout,
      .through_proxy = true};
  for (auto& header : request.headers) {
    if (header.first != "Host") outbound.headers.push_back(std::move(header));
  }
  auto answer = blocking_http(outbound);
  if (auto* error = std::get_if<std::string>(&answer))
    return "STS " + std::string(action) + " at " + sts.url + " failed: " + *error;
  const auto& response = std::get<BlockingResponse>(answer);
  auto result = parse_sts_answer(response.status, response.body);
  if (auto* error = std::get_if<std::string>(&result))
    return "STS " + std::string(action) + " at " + sts.url + " refused: " + *error;
  return result;
}

std::string child_exit_description(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

struct ProcessOutput {
  std::string out;
  std::string err;
  int status = 0;
  bool timed_out = false;
};

// Reads both pipes until they close or the deadline passes (then kills the child), then reaps it.
ProcessOutput collect(pid_t child, int out_fd, int err_fd) {
  ProcessOutput output;
  const auto deadline = std::chrono::steady_clock::now() + kProcessTimeout;
  std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<std::string*, 2> sinks{&output.out, &output.err};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      output.timed_out = true;
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const auto got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;  // poll ignores negative descriptors
      } else if (sinks[i]->size() < kMaxProcessOutput) {
        sinks[i]->append(buffer, static_cast<std::size_t>(got));
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) ::close(fd.fd);
  }
  if (output.timed_out) ::kill(child, SIGKILL);
  while (::waitpid(child, &output.status, 0) < 0 && errno == EINTR) {
  }
  return output;
}

}  // namespace

std::optional<Clock::time_point> parse_aws_time(std::string_view text) {
  std::tm time{};
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &time.tm_year, &time.tm_mon, &time.tm_mday,
                  &time.tm_hour, &time.tm_min, &time.tm_sec, &consumed) != 6)
    return std::nullopt;
  std::string_view rest = std::string_view(copy).substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with('.')) {
    const auto digits = rest.find_first_not_of("0123456789", 1);
    rest = digits == std::string_view::npos ? std::string_view() : rest.substr(digits);
  }
  long offset_seconds = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int hours = 0, minutes = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2)
      return std::nullopt;
    offset_seconds = (hours * 3600L + minutes * 60L) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  time.tm_year -= 1900;
  time.tm_mon -= 1;
  const auto seconds = ::timegm(&time);
  if (seconds == -1) return std::nullopt;
  return Clock::from_time_t(seconds - offset_seconds);
}

FetchResult parse_sts_answer(long status, std::string_view xml) {
  namespace pt = boost::property_tree;
  pt::ptree tree;
  try {
    std::istringstream input{std::string(xml)};
    pt::read_xml(input, tree);
  } catch (const pt::xml_parser_error&) {
    return "HTTP status " + std::to_string(status) + ", and an answer that is not XML: " + excerpt(xml);
  }
  if (const auto error = tree.get_child_optional("ErrorResponse.Error")) {
    return error->get("Code", std::string("unknown error")) + ": " + error->get("Message", std::string());
  }
  // The one element under the response's root is AssumeRoleResult or AssumeRoleWithWebIdentityResult.
  const pt::ptree* credentials = nullptr;
  if (!tree.empty()) {
    for (const auto& [name, child] : tree.front().second) {
      if (name.ends_with("Result")) {
        if (const auto found = child.get_child_optional("Credentials")) credentials = &*found;
      }
    }
  }
  if (status != 200 || credentials == nullptr)
    return "HTTP status " + std::to_string(status) + " without credentials: " + excerpt(xml);
  FetchedCredentials fetched{
      .credentials = {.access_key_id = credentials->get("AccessKeyId", std::string()),
                      .secret_access_key = credentials->get("SecretAccessKey", std::string()),
                      .session_token = credentials->get("SessionToken", std::string())},
      .expiration = parse_aws_time(credentials->get("Expiration", std::string()))};
  if (fetched.credentials.access_key_id.empty() || fetched.credentials.secret_access_key.empty() ||
      !fetched.expiration)
    return "an answer without AccessKeyId, SecretAccessKey or Expiration";
  return fetched;
}

FetchResult parse_credentials_json(std::string_view json, std::string_view token_key) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(json, ec);
  if (ec || !parsed.is_object()) return "an answer that is not a JSON object: " + excerpt(json);
  const auto& object = parsed.as_object();
  const auto text = [&object](std::string_view key) {
    const auto* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
  };
  if (const auto code = text("Code"); !code.empty() && code != "Success")
    return "Code " + code + ": " + text("Message");
  FetchedCredentials fetched{.credentials = {.access_key_id = text("AccessKeyId"),
                                             .secret_access_key = text("SecretAccessKey"),
                                             .session_token = text(token_key)}};
  if (fetched.credentials.access_key_id.empty() || fetched.credentials.secret_access_key.empty())
    return "an answer without AccessKeyId or SecretAccessKey";
  if (const auto expiration = text("Expiration"); !expiration.empty()) {
    fetched.expiration = parse_aws_time(expiration);
    if (!fetched.expiration) return "an Expiration that is not an ISO 8601 time: " + excerpt(expiration);
  }
  return fetched;
}

FetchResult assume_role_with_web_identity(const StsEndpoint& sts, const RoleRequest& role,
                                          const std::string& web_identity_token) {
  return call_sts(sts, "AssumeRoleWithWebIdentity",
                  form_encoded({{"Action", "AssumeRoleWithWebIdentity"},
                                {"Version", "2011-06-15"},
                                {"RoleArn", role.role_arn},
                                {"RoleSessionName", role.session_name},
                                {"DurationSeconds", role.duration_seconds},
                                {"WebIdentityToken", web_identity_token}}),
                  nullptr);
}

FetchResult assume_role(const StsEndpoint& sts, const RoleRequest& role, const Credentials& source) {
  return call_sts(sts, "AssumeRole",
                  form_encoded({{"Action", "AssumeRole"},
                                {"Version", "2011-06-15"},
                                {"RoleArn", role.role_arn},
                                {"RoleSessionName", role.session_name},
                                {"DurationSeconds", role.duration_seconds},
                                {"ExternalId", role.external_id}}),
                  &source);
}

FetchResult run_credential_process(const std::string& command) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return "credential_process: no pipe: " + std::string(std::strerror(errno));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return "credential_process: no pipe: " + std::string(std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t child = 0;
  const int spawned = ::posix_spawn(&child, "/bin/sh", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (spawned != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return "credential_process could not be started: " + std::string(std::strerror(spawned));
  }
  const auto output = collect(child, out[0], err[0]);
  if (output.timed_out)
    return "credential_process did not finish within " + std::to_string(kProcessTimeout.count()) + " s";
  if (!WIFEXITED(output.status) || WEXITSTATUS(output.status) != 0) {
    return "credential_process " + child_exit_description(output.status) +
           (output.err.empty() ? "" : ": " + excerpt(output.err));
  }
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(output.out, ec);
  const auto* version = !ec && parsed.is_object() ? parsed.as_object().if_contains("Version") : nullptr;
  if (version == nullptr || !version->is_int64() || version->as_int64() != 1)
    return "credential_process printed no JSON object with \"Version\": 1: " + excerpt(output.out);
  auto result = parse_credentials_json(output.out, "SessionToken");
  if (auto* error = std::get_if<std::string>(&result)) return "credential_process printed " + *error;
  return result;
}

std::variant<std::string, std::string> container_credentials_url(std::string_view full_uri,
                                                                 std::string_view relative_uri) {
  using Result = std::variant<std::string, std::string>;
  if (!relative_uri.empty()) {
    if (!relative_uri.starts_with('/'))
      return Result(std::in_place_index<1>, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /");
    return Result(std::in_place_index<0>, "http://169.254.170.2" + std::string(relative_uri));
  }
  const auto parsed = boost::urls::parse_absolute_uri(full_uri);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https"))
    return Result(std::in_place_index<1>,
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http:// or https:// URL");
  if (parsed->scheme() == "https") return Result(std::in_place_index<0>, std::string(full_uri));
  const auto host = std::string(parsed->host());
  const bool allowed = host == "localhost" || host.starts_with("127.") || host == "[::1]" ||
                       host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
  if (!allowed) {
    return Result(std::in_place_index<1>,
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI over http:// must be on a loopback address or on the "
                  "ECS or EKS container address (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the AWS "
                  "SDKs require; it is on " +
                      host);
  }
  return Result(std::in_place_index<0>, std::string(full_uri));
}

FetchResult fetch_container_credentials(const std::string& url, const std::string& authorization) {
  BlockingRequest request{.url = url, .timeout = kLinkLocalTimeout};
  if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
  auto answer = blocking_http(request);
  if (auto* error = std::get_if<std::string>(&answer))
    return "the container credentials endpoint " + url + " did not answer: " + *error;
  const auto& response = std::get<BlockingResponse>(answer);
  if (response.status != 200) {
    return "the container credentials endpoint " + url + " answered HTTP status " +
           std::to_string(response.status) + ": " + excerpt(response.body);
  }
  auto result = parse_credentials_json(response.body, "Token");
  if (auto* error = std::get_if<std::string>(&result))
    return "the container credentials endpoint " + url + " gave " + *error;
  return result;
}

FetchResult fetch_instance_metadata_credentials(const std::string& endpoint) {
  const auto fail = [&endpoint](std::string_view what) {
    return "the EC2 instance metadata service at " + endpoint + " " + std::string(what);
  };
  auto base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  BlockingRequest token_request{
      .method = "PUT", .url = base + "/latest/api/token", .timeout = kLinkLocalTimeout};
  token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  auto token = blocking_http(token_request);
  if (auto* error = std::get_if<std::string>(&token)) return fail("did not answer: " + *error);
  const auto& token_response = std::get<BlockingResponse>(token);
  if (token_response.status != 200) {
    return fail("refused an IMDSv2 session token (HTTP status " + std::to_string(token_response.status) +
                "); set AWS_EC2_METADATA_DISABLED=true when this is no EC2 instance");
  }
  const auto get = [&](const std::string& path) {
    BlockingRequest request{.url = base + path, .timeout = kLinkLocalTimeout};
    request.headers.emplace_back("X-aws-ec2-metadata-token", token_response.body);
    return blocking_http(request);
  };
  constexpr std::string_view kRoles = "/latest/meta-data/iam/security-credentials/";
  auto roles = get(std::string(kRoles));
  if (auto* error = std::get_if<std::string>(&roles)) return fail("did not answer: " + *error);
  const auto& roles_response = std::get<BlockingResponse>(roles);
  const auto role = roles_response.body.substr(0, roles_response.body.find_first_of("\r\n"));
  if (roles_response.status != 200 || role.empty()) {
    return fail("names no IAM role (HTTP status " + std::to_string(roles_response.status) +
                "): attach an instance profile to the instance");
  }
  auto credentials = get(std::string(kRoles) + uri_encode(role));
  if (auto* error = std::get_if<std::string>(&credentials)) return fail("did not answer: " + *error);
  const auto& response = std::get<BlockingResponse>(credentials);
  if (response.status != 200)
    return fail("answered HTTP status " + std::to_string(response.status) + " for role " + role);
  auto result = parse_credentials_json(response.body, "Token");
  if (auto* error = std::get_if<std::string>(&result)) return fail("gave " + *error);
  return result;
}

}  // namespace eg::providers::aws
