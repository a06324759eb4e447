#include "plugin/plugin_caller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/rate_limited_log.h"
#include "plugin/completion.h"

namespace eg::plugin {
namespace {

constexpr unsigned kDefaultVetoStatus = 400;  // the original gateway's
constexpr unsigned kUnavailableStatus = 503;

ReacterClient::Deadline deadline_after(std::chrono::milliseconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

Verdict unavailable(const PluginEntry& plugin, Hook hook, const std::string& why) {
  static common::RateLimitedWarning failing("a sync plugin could not answer: request refused with 503");
  failing.note(fmt::format("plugin {} on {}: {}", plugin.name, event_type_of(hook), why));
  return Verdict{.kind = Verdict::Kind::Unavailable,
                 .status = kUnavailableStatus,
                 .message = "plugin " + plugin.name + " " + why};
}

unsigned veto_status(const PluginEntry& plugin, std::int32_t status) {
  if (status == 0) return kDefaultVetoStatus;
  if (status >= 400 && status <= 599) return static_cast<unsigned>(status);
  static common::RateLimitedWarning odd("a plugin vetoed with a status outside 400-599: answered 400");
  odd.note(fmt::format("plugin {}: status {}", plugin.name, status));
  return kDefaultVetoStatus;
}

}  // namespace

boost::asio::awaitable<Verdict> PluginCaller::ask(const PluginEntry& plugin, Hook hook, std::string event) {
  const auto client = plugin.client;
  if (!client) co_return unavailable(plugin, hook, "is not running (it is being started again)");
  const auto timeout = host_.options().call_timeout;
  host_.call_started();
  // By reference only (see completion.h).
  const auto result = co_await completion_of<ReactResult>([&](std::function<void(ReactResult)> done) {
    client->react(std::string(event_type_of(hook)), std::move(event), deadline_after(timeout),
                  std::move(done));
  });
  host_.call_finished();
  if (result.failure) {
    if (result.failure->deadline_exceeded) {
      co_return unavailable(
          plugin, hook, "did not answer within " + std::to_string(timeout.count()) + " ms (-plugin-timeout)");
    }
    co_return unavailable(plugin, hook, "could not be called: " + result.failure->message);
  }
  const auto& reply = result.reply;
  if (!reply.error.empty()) {
    co_return Verdict{.kind = Verdict::Kind::Vetoed,
                      .status = veto_status(plugin, reply.status_code),
                      .message = reply.error};
  }
  co_return Verdict{.kind = Verdict::Kind::Allowed, .data = reply.data};
}

void PluginCaller::tell(const PluginTable& plugins, Hook hook, const std::string& event) {
  static common::RateLimitedWarning dropped(
      "an async plugin's queue is full or it is down: system event dropped");
  static common::RateLimitedWarning failed("an async plugin call failed");
  const auto limit = host_.options().async_queue;
  for (const auto& plugin : plugins.plugins) {
    if (plugin.mode(hook) != Mode::Async) continue;
    auto& counters = *plugin.counters;
    if (!plugin.client || counters.async_in_flight.fetch_add(1, std::memory_order_relaxed) >= limit) {
      if (plugin.client) counters.async_in_flight.fetch_sub(1, std::memory_order_relaxed);
      counters.async_dropped.fetch_add(1, std::memory_order_relaxed);
      dropped.note(fmt::format("plugin {}, {}: {}", plugin.name, event_type_of(hook),
                               plugin.client ? "queue full" : "not running"));
      continue;
    }
    host_.call_started();
    plugin.client->react(
        std::string(event_type_of(hook)), event, deadline_after(host_.options().call_timeout),
        [host = &host_, counters = &counters, name = plugin.name, hook](ReactResult result) {
          counters->async_in_flight.fetch_sub(1, std::memory_order_relaxed);
          if (result.failure) {
            failed.note(fmt::format("plugin {}, {}: {}", name, event_type_of(hook), result.failure->message));
          }
          host->call_finished();
        });
  }
}

}  // namespace eg::plugin
