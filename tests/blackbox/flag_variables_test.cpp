// Black-box tests of the flags' environment variables (docs/install.md#environment-variables): a
// variable configures the real binary, a flag given wins over it, a bad value stops the start naming
// it, and a variable that sets no flag is warned about, but not the Node SDK's.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <string>

#include "common/scoped_env.h"
#include "common/temporary_directory.h"
#include "support/config_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace fs = std::filesystem;
using blackbox::ConfigClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::IsJson;
using blackbox::IsJsonError;

// A function record of about `size` bytes: the body-size limit sees it whole.
boost::json::object function_of_size(const std::string& id, std::size_t size) {
  auto function = blackbox::http_function(id);
  function["provider"].as_object()["url"] = "http://127.0.0.1:9/" + std::string(size, 'x');
  return function;
}

TEST(FlagVariables, VariablesConfigureAGatewayStartedWithoutFlags) {
  testsupport::TemporaryDirectory directory{"eg-env-flags-"};
  const auto data_dir = directory.path() / "from-environment";
  GatewayProcess gateway(GatewayOptions{
      .dev_flag = "",
      .pass_data_dir = false,
      .environment = {"EVENT_GATEWAY_DEV=true", "EVENT_GATEWAY_EMBED_DATA_DIR=" + data_dir.string(),
                      "EVENT_GATEWAY_MAX_BODY_BYTES=400"}});
  ASSERT_TRUE(gateway.start());  // dev mode: without it, the gateway would look for etcd
  ConfigClient api(gateway.config_url());
  EXPECT_TRUE(IsJson(api.create_function("default", function_of_size("small", 10)), 201));
  EXPECT_TRUE(IsJsonError(api.create_function("default", function_of_size("large", 500)), 413));
  EXPECT_TRUE(fs::exists(data_dir / "config.db")) << gateway.log();
  EXPECT_EQ(gateway.log().find("EVENT_GATEWAY_"), std::string::npos) << "no warning expected:\n"
                                                                     << gateway.log();
  EXPECT_TRUE(gateway.stop());
}

// The harness passes -dev, -embed-data-dir, -config-port and -events-port; the variables say otherwise.
TEST(FlagVariables, AFlagWinsOverItsVariable) {
  testsupport::TemporaryDirectory directory{"eg-env-flags-"};
  const auto other_dir = directory.path() / "not-this-one";
  GatewayProcess gateway(GatewayOptions{
      .extra_args = {"-max-body-bytes", "1048576"},
      .environment = {"EVENT_GATEWAY_DEV=false", "EVENT_GATEWAY_EMBED_DATA_DIR=" + other_dir.string(),
                      "EVENT_GATEWAY_CONFIG_PORT=" + std::to_string(blackbox::closed_port()),
                      "EVENT_GATEWAY_MAX_BODY_BYTES=400"}});
  ASSERT_TRUE(gateway.start());  // on the flag's port, in dev mode, without etcd
  ConfigClient api(gateway.config_url());
  EXPECT_TRUE(IsJson(api.create_function("default", function_of_size("large", 500)), 201));
  EXPECT_TRUE(fs::exists(gateway.data_dir() / "config.db"));
  EXPECT_FALSE(fs::exists(other_dir));
  EXPECT_TRUE(gateway.stop());
}

TEST(FlagVariables, ABadValueStopsTheStartNamingTheVariable) {
  testsupport::ScopedEnv bad("EVENT_GATEWAY_EVENTS_PORT", "http");
  const auto r = blackbox::run_binary({"-dev"});
  EXPECT_EQ(r.exit_code, 2) << r.output();
  EXPECT_NE(r.err.find("the environment variable EVENT_GATEWAY_EVENTS_PORT: "), std::string::npos) << r.err;
}

TEST(FlagVariables, AVariableThatSetsNoFlagIsWarnedAboutButNotTheSdksKey) {
  GatewayProcess gateway(GatewayOptions{
      .environment = {"EVENT_GATEWAY_DB_HOST=10.0.0.1:2379", "EVENT_GATEWAY_API_KEY=sdk-key"}});
  ASSERT_TRUE(gateway.start());
  EXPECT_NE(gateway.log().find("the environment variable EVENT_GATEWAY_DB_HOST sets no flag and is ignored"),
            std::string::npos)
      << gateway.log();
  EXPECT_EQ(gateway.log().find("EVENT_GATEWAY_API_KEY"), std::string::npos) << gateway.log();
  EXPECT_TRUE(gateway.stop());
}

}  // namespace
