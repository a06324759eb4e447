#include "plugin/plugin_caller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/rate_limited_log.h"
#include "plugin/completion.h"

namespace eg::plugin {
namespace {

constexpr unsigned kDefaultVetoStatus = 400;  // the original gateway's
// How long async events gather before they are written on a Notify stream: a write and its
// completion cost the gateway tens of microseconds, so one per event would cost more than the
// request that caused it; an event waits at most this long (plus a write in progress).
constexpr std::chrono::milliseconds kNoticeGathering{2};
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
  auto* const client = client_of(plugin);  // alive while the caller holds the table (pin)
  if (client == nullptr) co_return unavailable(plugin, hook, "is not running (it is being started again)");
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
  for (const auto& plugin : plugins.plugins) {
    if (plugin.mode(hook) != Mode::Async) continue;
    auto* const client = client_of(plugin);
    if (client == nullptr || !client->notify(event_type_of(hook), event)) {
      plugin.counters->async_dropped.fetch_add(1, std::memory_order_relaxed);
      dropped.note(fmt::format("plugin {}, {}: {}", plugin.name, event_type_of(hook),
                               client != nullptr ? "queue full" : "not running"));
      continue;
    }
    schedule_flush();
  }
}

void PluginCaller::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  flush_timer_.expires_after(kNoticeGathering);
  flush_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;  // the caller is being destroyed
    flush_scheduled_ = false;
    flush();
  });
}

void PluginCaller::flush() {
  bool again = false;
  for (const auto& plugin : table().plugins) {
    if (auto* const client = client_of(plugin)) again = client->flush() || again;
  }
  if (again) schedule_flush();
}

}  // namespace eg::plugin
