// Black-box tests of TLS on both APIs (docs/tls.md): the real binary, with certificates that the
// openssl tool makes in each test (a root CA, an intermediate CA it signs, and server certificates
// for 127.0.0.1 that the intermediate signs), and real clients: the curl and `openssl s_client`
// tools, and libcurl where a connection must stay open across a reload.

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/raw_client.h"
#include "support/upstream_server.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::RawClient;
using blackbox::RequestOptions;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

// ---- running the tools ------------------------------------------------------------------------------------

struct ToolRun {
  int exit_code = -1;  // -1: it did not finish within the timeout (and was killed)
  std::string output;  // stdout and stderr
};

std::string read_whole(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs `arguments` (the first is the program's path) to completion, with `input` on its stdin.
ToolRun run_tool(std::vector<std::string> arguments, const std::string& input = "",
                 std::chrono::milliseconds timeout = 30s) {
  const blackbox::TempDir directory("eg-tls-tool-");
  const auto in = directory.path() / "in";
  const auto out = directory.path() / "out";
  std::ofstream(in, std::ios::binary) << input;
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ToolRun run;
  if (spawned != 0) {
    run.output = "cannot start " + arguments[0];
    return run;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      run.output = read_whole(out) + "\n(killed: still running after the timeout)";
      return run;
    }
    std::this_thread::sleep_for(5ms);
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.output = read_whole(out);
  return run;
}

ToolRun openssl(std::vector<std::string> arguments, const std::string& input = "") {
  arguments.insert(arguments.begin(), "/usr/bin/openssl");
  return run_tool(std::move(arguments), input);
}

// A TLS handshake by `openssl s_client` with `arguments`, which then closes (its stdin is empty).
ToolRun s_client(int port, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"s_client", "-connect", "127.0.0.1:" + std::to_string(port)});
  return openssl(std::move(arguments));
}

// The curl tool, quiet but for errors.
ToolRun curl(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"/usr/bin/curl", "-sS", "--max-time", "20"});
  return run_tool(std::move(arguments));
}

// ---- the certificates -------------------------------------------------------------------------------------

// A root CA, an intermediate CA that it signs, and server certificates for 127.0.0.1 that the
// intermediate signs. A server certificate `name` has its subject CN=name, its chain in
// <name>-chain.pem (the certificate, then the intermediate) and its key in <name>.key.
class Pki {
 public:
  Pki() {
    write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
    write("server.ext",
          "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    ok_ =
        run({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             file("root.key"), "-out", file("root.pem"), "-days", "2", "-subj", "/CN=eg-test-root"}) &&
        sign("eg-test-intermediate", "root", "ca.ext") && issue("eg-leaf-a") && issue("eg-leaf-b");
  }

  bool ok() const { return ok_; }
  const std::string& log() const { return log_; }
  std::string file(const std::string& name) const { return (directory_.path() / name).string(); }
  std::string root() const { return file("root.pem"); }
  std::string chain(const std::string& name) const { return file(name + "-chain.pem"); }
  std::string key(const std::string& name) const { return file(name + ".key"); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }

 private:
  bool run(std::vector<std::string> arguments) {
    const auto result = openssl(std::move(arguments));
    log_ += result.output;
    return result.exit_code == 0;
  }
  // Certificate `name` (and its key), signed by `issuer` with the extensions of `extensions`.
  bool sign(const std::string& name, const std::string& issuer, const std::string& extensions) {
    return run({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                file(name + ".key"), "-out", file(name + ".csr"), "-subj", "/CN=" + name}) &&
           run({"x509", "-req", "-in", file(name + ".csr"), "-CA", file(issuer + ".pem"), "-CAkey",
                file(issuer + ".key"), "-CAcreateserial", "-out", file(name + ".pem"), "-days", "2",
                "-extfile", file(extensions)});
  }
  bool issue(const std::string& name) {
    if (!sign(name, "eg-test-intermediate", "server.ext")) return false;
    write(name + "-chain.pem",
          read_whole(file(name + ".pem")) + read_whole(file("eg-test-intermediate.pem")));
    return true;
  }

  blackbox::TempDir directory_{"eg-tls-pki-"};
  std::string log_;
  bool ok_ = false;
};

// Replaces `target` with a copy of `source` at once (rename), as a deployment tool would.
void install_file(const std::string& source, const std::string& target) {
  const auto staged = target + ".new";
  fs::copy_file(source, staged, fs::copy_options::overwrite_existing);
  fs::rename(staged, target);
}

// ---- a gateway with TLS on both APIs ----------------------------------------------------------------------

// The gateway serving both APIs over TLS with the certificate files at cert_path() and key_path(),
// which start as a copy of eg-leaf-a's: a test replaces them before a SIGHUP.
class TlsGateway {
 public:
  explicit TlsGateway(const Pki& pki, std::vector<std::string> extra_args = {})
      : pki_(pki), process_(options(pki, std::move(extra_args))) {
    install("eg-leaf-a");
  }

  ::testing::AssertionResult start() { return process_.start(); }
  GatewayProcess& process() { return process_; }
  int config_port() const { return process_.config_port(); }
  int events_port() const { return process_.events_port(); }
  std::string config_url(const std::string& path) const { return process_.config_url() + path; }
  std::string events_url(const std::string& path) const { return process_.events_url() + path; }
  // libcurl's options for this gateway: the server's chain verified against the test's root CA only.
  RequestOptions verified() const { return RequestOptions{.ca_file = pki_.root()}; }

  // Gives the gateway's certificate files the certificate and key of `name` (a SIGHUP loads them).
  void install(const std::string& name) {
    install_file(pki_.chain(name), cert_path());
    install_file(pki_.key(name), key_path());
  }
  std::string cert_path() const { return (files_.path() / "server-chain.pem").string(); }
  std::string key_path() const { return (files_.path() / "server.key").string(); }

  void hangup() { ASSERT_EQ(::kill(process_.pid(), SIGHUP), 0); }
  // Waits until the log holds `text` `times` times (the gateway logs each reload).
  ::testing::AssertionResult wait_for_log(const std::string& text, std::size_t times) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (occurrences(process_.log(), text) >= times) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(20ms);
    }
    return ::testing::AssertionFailure()
           << "the log does not hold \"" << text << "\" " << times << " times:\n"
           << process_.log();
  }

  // Registers http function `id` at `url` with an http subscription GET `path`, through the
  // Configuration API over TLS, and waits until the Events API routes it.
  ::testing::AssertionResult route(const std::string& id, const std::string& url, const std::string& path) {
    if (auto r = configure("functions", blackbox::http_function(id, url)); !r) return r;
    if (auto r = configure("subscriptions", blackbox::http_subscription(id, "GET", path)); !r) return r;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    blackbox::HttpResponse answer;
    while (std::chrono::steady_clock::now() < deadline) {
      answer = blackbox::request("GET", events_url(path), {}, {}, verified());
      if (answer.status != 0 && answer.status != 404) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(20ms);
    }
    return ::testing::AssertionFailure() << "GET " << path << " not routed: " << answer.describe();
  }

  ::testing::AssertionResult configure(const std::string& kind, const boost::json::object& body) {
    const auto answer = blackbox::request("POST", config_url("/v1/spaces/default/" + kind),
                                          blackbox::to_json(body), {}, verified());
    if (answer.status == 201) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "POST " << kind << ": " << answer.describe();
  }

 private:
  static std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
  }

  GatewayOptions options(const Pki& pki, std::vector<std::string> extra_args) const {
    GatewayOptions options{.config_tls_ca = pki.root(), .events_tls = true};
    options.extra_args = {"-config-tls-cert", cert_path(), "-config-tls-key", key_path(),
                          "-events-tls-cert", cert_path(), "-events-tls-key", key_path()};
    options.extra_args.insert(options.extra_args.end(), extra_args.begin(), extra_args.end());
    return options;
  }

  const Pki& pki_;
  const blackbox::TempDir files_{"eg-tls-files-"};  // before process_, whose options name its files
  GatewayProcess process_;
};

// The subject of the certificate a new connection to `port` gets, as s_client prints it.
std::string served_subject(int port) {
  const auto run = s_client(port, {});
  const auto at = run.output.find("subject=");
  if (at == std::string::npos) return "(no certificate: " + run.output + ")";
  return run.output.substr(at, run.output.find('\n', at) - at);
}

// Waits until new connections to `port` get a certificate whose subject names `name`.
::testing::AssertionResult new_connections_get(int port, const std::string& name) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string subject;
  while (std::chrono::steady_clock::now() < deadline) {
    subject = served_subject(port);
    if (subject.find(name) != std::string::npos) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(20ms);
  }
  return ::testing::AssertionFailure() << "new connections still get " << subject;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki.ok()) << "openssl could not make the certificates:\n" << pki.log();
  }
  Pki pki;
};

TEST_F(TlsTest, BothApisServeHttpsAndCurlVerifiesTheChainAgainstTheTestRootOnly) {
  TlsGateway gw(pki);
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/hello", UpstreamResponse{.body = R"({"statusCode":200,"body":"hello over TLS"})"});
  ASSERT_TRUE(gw.route("hello", upstream.url("/hello"), "/hello"));
  ASSERT_TRUE(
      gw.configure("subscriptions", blackbox::custom_subscription("tls.emitted", "hello", "/emitted")));

  // Only the root is trusted: the intermediate that signs the server's certificate must come from
  // the server, in its chain.
  const auto status = curl({"--cacert", pki.root(), gw.config_url("/v1/status")});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("\"store\""), std::string::npos) << status.output;
  const auto sync = curl({"--cacert", pki.root(), gw.events_url("/hello")});
  EXPECT_EQ(sync.exit_code, 0) << sync.output;
  EXPECT_EQ(sync.output, "hello over TLS");
  const auto emitted = curl({"--cacert", pki.root(), "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                             "-H", "Event: tls.emitted", "-H", "Content-Type: application/json", "-d",
                             R"({"a":1})", gw.events_url("/emitted")});
  EXPECT_EQ(emitted.output, "202");
  EXPECT_TRUE(upstream.wait_until(
      [](const auto& requests) {
        for (const auto& request : requests) {
          if (request.body.find("tls.emitted") != std::string::npos) return true;
        }
        return false;
      },
      "the emitted event delivered"));

  // Without the test's root, curl (with the system's roots) refuses the certificate.
  const auto unverified = curl({gw.config_url("/v1/status")});
  EXPECT_EQ(unverified.exit_code, 60) << unverified.output;  // CURLE_PEER_FAILED_VERIFICATION
  const auto verified =
      s_client(gw.events_port(), {"-CAfile", pki.root(), "-verify_return_error", "-verify_ip", "127.0.0.1"});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_NE(verified.output.find("Verify return code: 0 (ok)"), std::string::npos) << verified.output;
  EXPECT_TRUE(gw.process().stop());
  EXPECT_EQ(gw.process().exit_code(), 0);
}

TEST_F(TlsTest, OnlyTls12AndTls13AreAcceptedWithModernCiphers) {
  TlsGateway gw(pki);
  ASSERT_TRUE(gw.start());
  for (const int port : {gw.config_port(), gw.events_port()}) {
    for (const std::string old : {"-tls1", "-tls1_1"}) {
      // SECLEVEL=0 lets this client offer the old protocol: the refusal is the server's.
      const auto refused = s_client(port, {old, "-cipher", "DEFAULT@SECLEVEL=0"});
      EXPECT_NE(refused.exit_code, 0) << old << ": " << refused.output;
      EXPECT_NE(refused.output.find("alert protocol version"), std::string::npos)
          << old << ": " << refused.output;
    }
    const auto tls12 = s_client(port, {"-tls1_2"});
    EXPECT_EQ(tls12.exit_code, 0) << tls12.output;
    EXPECT_NE(tls12.output.find("New, TLSv1.2, Cipher is ECDHE-"), std::string::npos) << tls12.output;
    const auto tls13 = s_client(port, {"-tls1_3"});
    EXPECT_EQ(tls13.exit_code, 0) << tls13.output;
    EXPECT_NE(tls13.output.find("New, TLSv1.3"), std::string::npos) << tls13.output;
    // A TLS 1.2 cipher without forward secrecy is not among them.
    const auto weak = s_client(port, {"-tls1_2", "-cipher", "AES128-SHA"});
    EXPECT_NE(weak.exit_code, 0) << weak.output;
  }
}

TEST_F(TlsTest, AlpnSelectsHttp11AndRefusesAClientThatOffersOnlyH2) {
  TlsGateway gw(pki);
  ASSERT_TRUE(gw.start());
  for (const int port : {gw.config_port(), gw.events_port()}) {
    const auto offered = s_client(port, {"-alpn", "h2,http/1.1"});
    EXPECT_EQ(offered.exit_code, 0) << offered.output;
    EXPECT_NE(offered.output.find("ALPN protocol: http/1.1"), std::string::npos) << offered.output;
    const auto h2_only = s_client(port, {"-alpn", "h2"});
    EXPECT_NE(h2_only.exit_code, 0) << h2_only.output;
    EXPECT_NE(h2_only.output.find("no application protocol"), std::string::npos) << h2_only.output;
  }
  const auto curl_run = curl({"-v", "--cacert", pki.root(), "-o", "/dev/null", gw.config_url("/v1/status")});
  EXPECT_NE(curl_run.output.find("ALPN: server accepted http/1.1"), std::string::npos) << curl_run.output;
}

// A client that keeps one connection open, through libcurl: its connection cache holds it between
// requests.
class KeepAliveClient {
 public:
  explicit KeepAliveClient(const std::string& ca_file) : handle_(curl_easy_init()) {
    curl_easy_setopt(handle_.get(), CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(handle_.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle_.get(), CURLOPT_TIMEOUT_MS, 20'000L);
    curl_easy_setopt(
        handle_.get(), CURLOPT_WRITEFUNCTION,
        +[](char*, size_t size, size_t count, void*) { return size * count; });
  }
  // The status of GET `url` (0 when it failed), and whether it opened a connection for it.
  long get(const std::string& url, bool* opened_connection = nullptr) {
    curl_easy_setopt(handle_.get(), CURLOPT_URL, url.c_str());
    long status = 0;
    long connects = 0;
    if (curl_easy_perform(handle_.get()) == CURLE_OK)
      curl_easy_getinfo(handle_.get(), CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(handle_.get(), CURLINFO_NUM_CONNECTS, &connects);
    if (opened_connection != nullptr) *opened_connection = connects > 0;
    return status;
  }

 private:
  struct Cleanup {
    void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
  };
  std::unique_ptr<CURL, Cleanup> handle_;
};

TEST_F(TlsTest, SighupReloadsTheCertificateForNewConnectionsWhileOpenOnesKeepWorking) {
  TlsGateway gw(pki);
  ASSERT_TRUE(gw.start());
  KeepAliveClient config_client(pki.root());
  KeepAliveClient events_client(pki.root());
  ASSERT_EQ(config_client.get(gw.config_url("/v1/status")), 200);
  ASSERT_EQ(events_client.get(gw.events_url("/nothing")), 404);
  ASSERT_NE(served_subject(gw.events_port()).find("eg-leaf-a"), std::string::npos);

  gw.install("eg-leaf-b");
  gw.hangup();
  EXPECT_TRUE(new_connections_get(gw.config_port(), "eg-leaf-b"));
  EXPECT_TRUE(new_connections_get(gw.events_port(), "eg-leaf-b"));
  EXPECT_TRUE(gw.wait_for_log("TLS certificate reloaded", 2));

  // The connections opened before the reload were not dropped: they carry further requests.
  bool opened = true;
  EXPECT_EQ(config_client.get(gw.config_url("/v1/status"), &opened), 200);
  EXPECT_FALSE(opened) << "the Configuration API connection was dropped";
  EXPECT_EQ(events_client.get(gw.events_url("/nothing"), &opened), 404);
  EXPECT_FALSE(opened) << "the Events API connection was dropped";
  EXPECT_EQ(blackbox::request("GET", gw.config_url("/v1/status"), {}, {}, gw.verified()).status, 200);
  // SIGTERM closes the idle TLS connections in order (close_notify) and exits cleanly.
  EXPECT_TRUE(gw.process().stop());
  EXPECT_EQ(gw.process().exit_code(), 0);
}

TEST_F(TlsTest, AFailedReloadKeepsTheCertificateInUse) {
  TlsGateway gw(pki);
  ASSERT_TRUE(gw.start());
  const auto garbage = pki.write("garbage.pem", "not a certificate\n");
  install_file(garbage, gw.cert_path());
  gw.hangup();
  ASSERT_TRUE(gw.wait_for_log("TLS certificate not reloaded", 2));
  EXPECT_NE(gw.process().log().find("-events-tls-cert " + gw.cert_path()), std::string::npos)
      << gw.process().log();
  EXPECT_NE(served_subject(gw.events_port()).find("eg-leaf-a"), std::string::npos);
  EXPECT_NE(served_subject(gw.config_port()).find("eg-leaf-a"), std::string::npos);

  // A certificate with another certificate's key is refused just the same.
  install_file(pki.chain("eg-leaf-b"), gw.cert_path());
  gw.hangup();
  ASSERT_TRUE(gw.wait_for_log("TLS certificate not reloaded", 4));
  EXPECT_NE(gw.process().log().find("does not match"), std::string::npos) << gw.process().log();
  EXPECT_NE(served_subject(gw.events_port()).find("eg-leaf-a"), std::string::npos);
  EXPECT_EQ(blackbox::request("GET", gw.config_url("/v1/status"), {}, {}, gw.verified()).status, 200);

  // Good files again: the next SIGHUP takes them.
  gw.install("eg-leaf-b");
  gw.hangup();
  EXPECT_TRUE(new_connections_get(gw.events_port(), "eg-leaf-b"));
  EXPECT_TRUE(gw.process().running());
}

TEST_F(TlsTest, BadCertificateOrKeyFilesStopTheStartWithStatus2NamingTheFlag) {
  const blackbox::TempDir data("eg-tls-data-");
  const auto garbage = pki.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");
  const auto empty = pki.write("empty.pem", "");
  const auto missing = pki.file("missing.pem");
  const auto directory = pki.file("a-directory");
  fs::create_directory(directory);
  const auto chain = pki.chain("eg-leaf-a");
  const auto key = pki.key("eg-leaf-a");
  struct Case {
    std::vector<std::string> flags;
    std::string message;  // in what the gateway prints
  };
  const std::vector<Case> cases{
      {{"-events-tls-cert", missing, "-events-tls-key", key},
       "-events-tls-cert " + missing + ": cannot read it: No such file or directory"},
      {{"-config-tls-cert", chain, "-config-tls-key", missing},
       "-config-tls-key " + missing + ": cannot read it: No such file or directory"},
      {{"-events-tls-cert", directory, "-events-tls-key", key},
       "-events-tls-cert " + directory + ": cannot read it: Is a directory"},
      {{"-events-tls-cert", chain, "-events-tls-key", empty},
       "-events-tls-key " + empty + ": cannot read it: the file is empty"},
      {{"-events-tls-cert", garbage, "-events-tls-key", key},
       "-events-tls-cert " + garbage + ": not a usable PEM certificate chain"},
      {{"-config-tls-cert", key, "-config-tls-key", key},
       "-config-tls-cert " + key + ": not a usable PEM certificate chain"},
      {{"-events-tls-cert", chain, "-events-tls-key", garbage},
       "-events-tls-key " + garbage + ": not an unencrypted PEM private key"},
      {{"-events-tls-cert", chain, "-events-tls-key", pki.key("eg-leaf-b")},
       "-events-tls-key " + pki.key("eg-leaf-b") +
           ": the key does not match the certificate of -events-tls-cert " + chain},
      {{"-events-tls-cert", chain}, "-events-tls-cert and -events-tls-key must be given together"},
      {{"-config-tls-key", key}, "-config-tls-cert and -config-tls-key must be given together"},
  };
  for (const auto& bad : cases) {
    std::vector<std::string> arguments{
        "-dev", "-embed-data-dir", (data.path() / "eg").string(), "-config-port", "0", "-events-port", "0"};
    arguments.insert(arguments.end(), bad.flags.begin(), bad.flags.end());
    const auto run = blackbox::run_binary(arguments);
    EXPECT_EQ(run.exit_code, 2) << bad.message << "\n" << run.output();
    EXPECT_NE(run.err.find(bad.message), std::string::npos) << run.output();
  }
  // An unreadable file (a root user reads every file: only checked as another user).
  if (::geteuid() != 0) {
    const auto locked = pki.write("locked.key", read_whole(key));
    ::chmod(locked.c_str(), 0);
    const auto run =
        blackbox::run_binary({"-dev", "-embed-data-dir", (data.path() / "eg").string(), "-config-port", "0",
                              "-events-port", "0", "-events-tls-cert", chain, "-events-tls-key", locked});
    EXPECT_EQ(run.exit_code, 2) << run.output();
    EXPECT_NE(run.err.find("-events-tls-key " + locked + ": cannot read it: Permission denied"),
              std::string::npos)
        << run.output();
  }
  EXPECT_FALSE(fs::exists(data.path() / "eg")) << "a bad file stops the gateway before it opens the store";
}

TEST_F(TlsTest, PlainHttpToATlsPortIsClosedCleanlyAndQuickly) {
  TlsGateway gw(pki);
  ASSERT_TRUE(gw.start());
  for (const int port : {gw.config_port(), gw.events_port()}) {
    RawClient client(port);
    ASSERT_TRUE(client.send("GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_TRUE(client.wait_for_close(10s)) << "the connection is still open 10 s after a plain HTTP request";
    EXPECT_EQ(client.buffered().find("HTTP/"), std::string::npos) << "no HTTP answer over a TLS port";
  }
  // What curl makes of it: a failed transfer, not a hang.
  const auto plain = curl({"http://127.0.0.1:" + std::to_string(gw.events_port()) + "/nothing"});
  EXPECT_NE(plain.exit_code, 0) << plain.output;
  EXPECT_NE(plain.exit_code, 28) << "curl timed out: " << plain.output;
  EXPECT_EQ(blackbox::request("GET", gw.events_url("/nothing"), {}, {}, gw.verified()).status, 404);
  EXPECT_TRUE(gw.process().running());
}

TEST_F(TlsTest, ManyNewConnectionsAllSucceedOnEveryEventsApiThread) {
  TlsGateway gw(pki, {"-events-threads", "2"});
  ASSERT_TRUE(gw.start());
  UpstreamServer upstream;
  upstream.respond("/many", UpstreamResponse{.body = R"({"body":"ok"})"});
  ASSERT_TRUE(gw.route("many", upstream.url("/many"), "/many"));
  // Each request on a connection of its own: the kernel spreads them over both threads' listeners.
  constexpr int kConnections = 60;
  int answered = 0;
  for (int i = 0; i < kConnections; ++i) {
    const auto answer = blackbox::request("GET", gw.events_url("/many"), {}, {}, gw.verified());
    EXPECT_EQ(answer.status, 200) << "connection " << i << ": " << answer.describe();
    answered += answer.status == 200 && answer.body == "ok" ? 1 : 0;
  }
  EXPECT_EQ(answered, kConnections);
}

TEST_F(TlsTest, ConnectionsPastTheCapAreClosedAndTheConfigurationApiStillAnswers) {
  constexpr int kCap = 4;
  TlsGateway gw(pki, {"-max-connections", std::to_string(kCap), "-events-threads", "2"});
  ASSERT_TRUE(gw.start());
  std::vector<std::unique_ptr<KeepAliveClient>> held;
  for (int i = 0; i < kCap; ++i) {
    held.push_back(std::make_unique<KeepAliveClient>(pki.root()));
    ASSERT_EQ(held.back()->get(gw.events_url("/nothing")), 404) << "connection " << i;
  }
  const auto refused = s_client(gw.events_port(), {});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_TRUE(gw.wait_for_log("-max-connections reached", 1));
  EXPECT_EQ(blackbox::request("GET", gw.config_url("/v1/status"), {}, {}, gw.verified()).status, 200);
  held.pop_back();  // gives one connection back
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  long status = 0;
  while (status != 404 && std::chrono::steady_clock::now() < deadline) {
    status = blackbox::request("GET", gw.events_url("/nothing"), {}, {}, gw.verified()).status;
    if (status != 404) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 404);
}

}  // namespace
