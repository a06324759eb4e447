// The README's quick start as a user follows it: its curl steps, read from README.md itself, against
// the function of examples/hello (python3, the standard library only) and the real binary. A README
// whose steps or whose function no longer work fails here.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/etcd_process.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/raw_client.h"

// Named: the unity build compiles this file with the other black-box tests, whose anonymous
// namespaces hold names of the same kind (kSource, read_file).
namespace quick_start_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kSource = EG_SOURCE_DIR;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// examples/hello/hello.py on `port`, its output in `log`, until destroyed.
class HelloFunction {
 public:
  HelloFunction(int port, const fs::path& log)
      : pid_(testsupport::spawn(
            {"python3", (kSource / "examples/hello/hello.py").string(), std::to_string(port)}, log)) {}
  ~HelloFunction() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  HelloFunction(const HelloFunction&) = delete;
  HelloFunction& operator=(const HelloFunction&) = delete;

 private:
  pid_t pid_ = -1;
};

// The shell block of the quick start that talks to the running gateway.
std::string quick_start_steps(const std::string& readme) {
  const auto intro = readme.find("Then, from another shell:");
  if (intro == std::string::npos) return "";
  const auto begin = readme.find("```sh\n", intro);
  const auto end = begin == std::string::npos ? begin : readme.find("```", begin + 6);
  return end == std::string::npos ? "" : readme.substr(begin + 6, end - begin - 6);
}

TEST(QuickStart, TheReadmesStepsGreetThroughTheGateway) {
  const auto steps = quick_start_steps(read_file(kSource / "README.md"));
  ASSERT_FALSE(steps.empty()) << "no quick start steps in README.md";
  // The bodies of its two POSTs, in order (the function, then its subscription), and the path it calls.
  std::vector<std::string> bodies;
  const std::regex body("-d '([^']*)'");
  for (auto it = std::sregex_iterator(steps.begin(), steps.end(), body); it != std::sregex_iterator(); ++it)
    bodies.push_back((*it)[1]);
  ASSERT_EQ(bodies.size(), 2u) << steps;
  std::smatch called;
  ASSERT_TRUE(std::regex_search(steps, called, std::regex(R"(curl -s localhost:4000(/\S*))"))) << steps;
  const std::string kReadmeFunction = "http://127.0.0.1:8080/";  // hello.py's default port
  const auto at = bodies[0].find(kReadmeFunction);
  ASSERT_NE(at, std::string::npos) << "the quick start's function is not examples/hello's: " << bodies[0];

  blackbox::TempDir dir("eg-quick-start-");
  const int port = blackbox::pick_free_port();
  HelloFunction hello(port, dir.path() / "hello.log");
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       !blackbox::RawClient(port).connected();) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << read_file(dir.path() / "hello.log");
    std::this_thread::sleep_for(20ms);
  }
  blackbox::GatewayProcess gateway;
  ASSERT_TRUE(gateway.start());

  const blackbox::Headers json{{"Content-Type", "application/json"}};
  auto function = bodies[0];
  function.replace(at, kReadmeFunction.size(), "http://127.0.0.1:" + std::to_string(port) + "/");
  EXPECT_EQ(
      blackbox::request("POST", gateway.config_url() + "/v1/spaces/default/functions", function, json).status,
      201);
  EXPECT_EQ(
      blackbox::request("POST", gateway.config_url() + "/v1/spaces/default/subscriptions", bodies[1], json)
          .status,
      201);
  // Routing follows the store within milliseconds: until then the path is not found.
  blackbox::HttpResponse answer;
  for (const auto deadline = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < deadline;) {
    answer = blackbox::request("GET", gateway.events_url() + called[1].str());
    if (answer.status != 404) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(answer.status, 200) << answer.describe() << read_file(dir.path() / "hello.log");
  EXPECT_EQ(boost::json::parse(answer.body),
            (boost::json::value{{"message", "Hello, world!"}, {"method", "GET"}, {"path", called[1].str()}}))
      << answer.body;
}

}  // namespace
}  // namespace quick_start_test
