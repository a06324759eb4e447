// The command line and the environment variables of its flags (app/options.h): EVENT_GATEWAY_<FLAG>
// sets a flag, a flag given wins over its variable, switches and repeatable flags have their own
// forms, and a variable that sets nothing is warned about, not refused.

#include "app/options.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace eg::app {
namespace {

ParsedCommandLine parse_flags(std::vector<std::string> arguments,
                              const std::vector<std::string>& environment) {
  arguments.insert(arguments.begin(), "event-gateway");
  std::vector<const char*> argv;
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data(), environment);
}

bool any_line_mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

TEST(EnvironmentFlags, AVariableSetsItsFlag) {
  const auto parsed =
      parse_flags({}, {"EVENT_GATEWAY_DB_HOSTS=10.0.0.1:2379,10.0.0.2:2379", "EVENT_GATEWAY_EVENTS_PORT=5000",
                       "EVENT_GATEWAY_FUNCTION_DENY_NETWORKS=", "EVENT_GATEWAY_LOG_LEVEL=debug"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << parsed.message;
  EXPECT_EQ(parsed.options.db_hosts, "10.0.0.1:2379,10.0.0.2:2379");
  EXPECT_EQ(parsed.options.events_port, 5000);
  EXPECT_EQ(parsed.options.function_deny_networks, "");  // an empty value is a value: no network denied
  EXPECT_EQ(parsed.options.log_level, "debug");
  EXPECT_TRUE(parsed.options.warnings.empty());
}

TEST(EnvironmentFlags, AFlagWinsOverItsVariable) {
  const auto parsed = parse_flags(
      {"-events-port", "6000", "--db-hosts=a:1"},
      {"EVENT_GATEWAY_EVENTS_PORT=5000", "EVENT_GATEWAY_DB_HOSTS=b:2", "EVENT_GATEWAY_WORKERS=7"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << parsed.message;
  EXPECT_EQ(parsed.options.events_port, 6000);
  EXPECT_EQ(parsed.options.db_hosts, "a:1");
  EXPECT_EQ(parsed.options.workers, 7U);  // the flags given win only over their own variables
}

TEST(EnvironmentFlags, ASwitchTakesGoTrueOrFalse) {
  for (const std::string on : {"true", "1", "t", "TRUE", "True"}) {
    const auto parsed = parse_flags({}, {"EVENT_GATEWAY_DEV=" + on});
    ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << on << ": " << parsed.message;
    EXPECT_TRUE(parsed.options.dev) << on;
  }
  for (const std::string off : {"false", "0", "F"}) {
    const auto parsed = parse_flags({}, {"EVENT_GATEWAY_DEV=" + off});
    ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << off << ": " << parsed.message;
    EXPECT_FALSE(parsed.options.dev) << off;
  }
  for (const std::string neither : {"yes", "", "on"}) {
    const auto parsed = parse_flags({}, {"EVENT_GATEWAY_SPOOL_FSYNC=" + neither});
    ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Fail) << neither;
    EXPECT_NE(parsed.message.find("EVENT_GATEWAY_SPOOL_FSYNC=" + neither +
                                  ": a switch's variable is true or false"),
              std::string::npos)
        << parsed.message;
  }
}

TEST(EnvironmentFlags, ASwitchTurnedOffOnTheCommandLineStaysOff) {
  const auto off = parse_flags({"-dev=false"}, {"EVENT_GATEWAY_DEV=true"});
  ASSERT_EQ(off.action, ParsedCommandLine::Action::Run) << off.message;
  EXPECT_FALSE(off.options.dev);
  const auto on = parse_flags({"-dev"}, {"EVENT_GATEWAY_DEV=false"});
  ASSERT_EQ(on.action, ParsedCommandLine::Action::Run) << on.message;
  EXPECT_TRUE(on.options.dev);
}

TEST(EnvironmentFlags, ARepeatableFlagTakesACommaSeparatedListThatItsFlagsReplace) {
  const auto listed = parse_flags({}, {"EVENT_GATEWAY_PLUGIN=/opt/a,/opt/b"});
  ASSERT_EQ(listed.action, ParsedCommandLine::Action::Run) << listed.message;
  EXPECT_EQ(listed.options.plugins, (std::vector<std::string>{"/opt/a", "/opt/b"}));
  const auto flagged = parse_flags({"-plugin", "/opt/c"}, {"EVENT_GATEWAY_PLUGIN=/opt/a,/opt/b"});
  ASSERT_EQ(flagged.action, ParsedCommandLine::Action::Run) << flagged.message;
  EXPECT_EQ(flagged.options.plugins, std::vector<std::string>{"/opt/c"});
  const auto empty_item = parse_flags({}, {"EVENT_GATEWAY_PLUGIN=/opt/a,,/opt/b"});
  ASSERT_EQ(empty_item.action, ParsedCommandLine::Action::Fail);
  EXPECT_NE(empty_item.message.find("EVENT_GATEWAY_PLUGIN=/opt/a,,/opt/b: an empty item"), std::string::npos)
      << empty_item.message;
}

TEST(EnvironmentFlags, ABadValueNamesTheVariable) {
  const auto parsed = parse_flags({}, {"EVENT_GATEWAY_EVENTS_PORT=http"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Fail);
  EXPECT_NE(parsed.message.find("the environment variable EVENT_GATEWAY_EVENTS_PORT: "), std::string::npos)
      << parsed.message;
  EXPECT_NE(parsed.message.find("'http'"), std::string::npos) << parsed.message;
  // A value of the right type is checked as the flag's would be.
  const auto zero = parse_flags({}, {"EVENT_GATEWAY_WORKERS=0"});
  ASSERT_EQ(zero.action, ParsedCommandLine::Action::Fail);
  EXPECT_NE(zero.message.find("-workers must be at least 1"), std::string::npos) << zero.message;
}

TEST(EnvironmentFlags, AVariableThatSetsNoFlagIsIgnoredWithAWarning) {
  for (const std::string variable : {"EVENT_GATEWAY_DB_HOST", "EVENT_GATEWAY_Dev", "EVENT_GATEWAY_DB-HOSTS",
                                     "EVENT_GATEWAY_HELP", "EVENT_GATEWAY_HASH_KEY", "EVENT_GATEWAY_"}) {
    const auto parsed = parse_flags({}, {variable + "=true"});
    ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << variable << ": " << parsed.message;
    EXPECT_FALSE(parsed.options.dev);
    EXPECT_FALSE(parsed.options.hash_key);
    EXPECT_TRUE(
        any_line_mentions(parsed.options.warnings, "the environment variable " + variable + " sets no flag"))
        << variable;
  }
}

TEST(EnvironmentFlags, TheVariablesOfOthersAndOtherPrefixesAreLeftAlone) {
  const auto parsed = parse_flags({}, {"EVENT_GATEWAY_API_KEY=sdk-key", "EVENT_GATEWAY_MAGIC_COOKIE=cookie",
                                       "EVENT_GATEWAYS=1", "PATH=/usr/bin", "DEV=true"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << parsed.message;
  EXPECT_TRUE(parsed.options.warnings.empty()) << parsed.options.warnings.front();
  EXPECT_FALSE(parsed.options.dev);
}

TEST(EnvironmentFlags, TheKeyFilesKeepTheirFormerVariablesButNotTwoAtOnce) {
  const auto former = parse_flags({}, {"EVENT_GATEWAY_CONFIG_API_KEYS_FILE=/etc/keys"});
  ASSERT_EQ(former.action, ParsedCommandLine::Action::Run) << former.message;
  EXPECT_EQ(former.options.config_api_keys, "/etc/keys");
  const auto current = parse_flags({}, {"EVENT_GATEWAY_EVENTS_API_KEYS=/etc/events-keys"});
  ASSERT_EQ(current.action, ParsedCommandLine::Action::Run) << current.message;
  EXPECT_EQ(current.options.events_api_keys, "/etc/events-keys");
  const auto flagged =
      parse_flags({"-config-api-keys", "/flag"}, {"EVENT_GATEWAY_CONFIG_API_KEYS_FILE=/etc/keys"});
  ASSERT_EQ(flagged.action, ParsedCommandLine::Action::Run) << flagged.message;
  EXPECT_EQ(flagged.options.config_api_keys, "/flag");
  const auto both =
      parse_flags({}, {"EVENT_GATEWAY_CONFIG_API_KEYS_FILE=/a", "EVENT_GATEWAY_CONFIG_API_KEYS=/b"});
  ASSERT_EQ(both.action, ParsedCommandLine::Action::Fail);
  EXPECT_NE(
      both.message.find(
          "EVENT_GATEWAY_CONFIG_API_KEYS and EVENT_GATEWAY_CONFIG_API_KEYS_FILE both set -config-api-keys"),
      std::string::npos)
      << both.message;
}

TEST(EnvironmentFlags, ThePasswordNeedsAUserFromEitherPlace) {
  const auto parsed = parse_flags({"-db-user", "root"}, {"EVENT_GATEWAY_DB_PASSWORD=secret"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << parsed.message;
  EXPECT_EQ(parsed.options.db_password, "secret");
  const auto both = parse_flags({}, {"EVENT_GATEWAY_DB_PASSWORD=secret", "EVENT_GATEWAY_DB_USER=root"});
  ASSERT_EQ(both.action, ParsedCommandLine::Action::Run) << both.message;
  EXPECT_EQ(both.options.db_user, "root");
  const auto alone = parse_flags({}, {"EVENT_GATEWAY_DB_PASSWORD=secret"});
  ASSERT_EQ(alone.action, ParsedCommandLine::Action::Fail);
  EXPECT_NE(alone.message.find("EVENT_GATEWAY_DB_PASSWORD) needs -db-user"), std::string::npos)
      << alone.message;
}

TEST(EnvironmentFlags, AnIgnoredFlagsVariableWarnsAsTheFlagDoes) {
  const auto parsed = parse_flags({}, {"EVENT_GATEWAY_EMBED_CLI_ADDR=127.0.0.1:2379"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::Run) << parsed.message;
  EXPECT_TRUE(any_line_mentions(parsed.options.warnings, "-embed-cli-addr is ignored"))
      << parsed.options.warnings.size();
}

TEST(EnvironmentFlags, HelpListsTheVariablesWhateverTheEnvironmentHolds) {
  const auto parsed = parse_flags({"-help"}, {"EVENT_GATEWAY_EVENTS_PORT=http"});
  ASSERT_EQ(parsed.action, ParsedCommandLine::Action::PrintAndExit) << parsed.message;
  EXPECT_NE(parsed.message.find("EVENT_GATEWAY_DB_HOSTS"), std::string::npos) << parsed.message;
  EXPECT_NE(parsed.message.find("EVENT_GATEWAY_MAX_CONNECTIONS"), std::string::npos) << parsed.message;
  EXPECT_NE(parsed.message.find("given wins over its variable"), std::string::npos) << parsed.message;
  EXPECT_EQ(parsed.message.find("EVENT_GATEWAY_HELP"), std::string::npos) << parsed.message;
  EXPECT_EQ(parse_flags({"-version"}, {"EVENT_GATEWAY_DEV=maybe"}).action,
            ParsedCommandLine::Action::PrintAndExit);
}

TEST(CommandLine, GoSwitchesAndStrayArgumentsAsBefore) {
  EXPECT_TRUE(parse_flags({"-dev=true"}, {}).options.dev);
  EXPECT_FALSE(parse_flags({"--dev=false"}, {}).options.dev);
  const auto stray = parse_flags({"-dev", "foo"}, {});
  ASSERT_EQ(stray.action, ParsedCommandLine::Action::Fail);
  EXPECT_NE(stray.message.find("unexpected argument 'foo'"), std::string::npos) << stray.message;
}

}  // namespace
}  // namespace eg::app
