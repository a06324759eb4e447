#include "plugin/plugin_caller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "common/rate_limited_log.h"
#include "metrics/gateway_metrics.h"
#include "plugin/completion.h"

namespace eg::plugin {
namespace {

constexpr unsigned kDefaultVetoStatus = 400;  // the original gateway's
// How long async events gather before they are written on a Notify stream, unless a message fills
// first (grpc_reacter_client.cpp). A message costs about as much whatever it carries: the gateway's
// write (gRPC writes to the socket on the thread that starts it), wake-ups of gRPC's threads and of
// the plugin. Side by side at 4k requests/s, a gateway with an async plugin that wrote every 50 ms
// spent 16 us less CPU per request (its own and its plugin's) than one that wrote every 10 ms.
// An event waits at most this long (plus a write in progress); nobody waits for it.
constexpr std::chrono::milliseconds kNoticeGathering{50};
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

std::string_view outcome_label(Verdict::Kind kind) {
  switch (kind) {
    case Verdict::Kind::Allowed:
      return "allowed";
    case Verdict::Kind::Vetoed:
      return "vetoed";
    case Verdict::Kind::Unavailable:
      return "unavailable";
  }
  return "unknown";
}

Verdict counted(const PluginEntry& plugin, Hook hook, Verdict verdict) {
  metrics::plugin_calls.add({plugin.name, event_type_of(hook), outcome_label(verdict.kind)});
  return verdict;
}

}  // namespace

boost::asio::awaitable<Verdict> PluginCaller::ask(const PluginEntry& plugin, Hook hook, std::string event) {
  auto* const client = client_of(plugin);  // alive while the caller holds the table (pin)
  if (client == nullptr) {
    co_return counted(plugin, hook, unavailable(plugin, hook, "is not running (it is being started again)"));
  }
  const auto started = std::chrono::steady_clock::now();
  const auto timeout = host_.options().call_timeout;
  host_.call_started();
  // Named, and the lambda captures by reference only: GCC 12 destroys temporaries in a co_await
  // expression twice (see completion.h).
  const ReactResult timed_out{.failure = RpcFailure{.deadline_exceeded = true}};
  const auto result =
      co_await completion_within<ReactResult>(timeout, timed_out, [&](std::function<void(ReactResult)> done) {
        client->react(std::string(event_type_of(hook)), std::move(event), deadline_after(timeout),
                      std::move(done));
        schedule_calls_flush();
      });
  host_.call_finished();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  metrics::plugin_call_duration_seconds.observe({plugin.name, event_type_of(hook)}, took.count());
  co_return counted(plugin, hook, verdict_of(plugin, hook, result));
}

Verdict PluginCaller::verdict_of(const PluginEntry& plugin, Hook hook, const ReactResult& result) const {
  if (result.failure) {
    if (result.failure->deadline_exceeded) {
      const auto timeout = host_.options().call_timeout;
      return unavailable(
          plugin, hook, "did not answer within " + std::to_string(timeout.count()) + " ms (-plugin-timeout)");
    }
    return unavailable(plugin, hook, "could not be called: " + result.failure->message);
  }
  const auto& reply = result.reply;
  if (!reply.error.empty()) {
    return Verdict{.kind = Verdict::Kind::Vetoed,
                   .status = veto_status(plugin, reply.status_code),
                   .message = reply.error};
  }
  return Verdict{.kind = Verdict::Kind::Allowed, .data = reply.data};
}

void PluginCaller::tell(const PluginTable& plugins, Hook hook, std::string event) {
  static common::RateLimitedWarning dropped(
      "an async plugin's queue is full or it is down: system event dropped");
  const auto subscribed = [hook](const PluginEntry& plugin) { return plugin.mode(hook) == Mode::Async; };
  // The last subscriber gets the text itself, the others a copy each.
  const auto last = std::find_if(plugins.plugins.rbegin(), plugins.plugins.rend(), subscribed);
  for (const auto& plugin : plugins.plugins) {
    if (!subscribed(plugin)) continue;
    auto* const client = client_of(plugin);
    const bool told = client != nullptr &&
                      client->notify(event_type_of(hook), &plugin == &*last ? std::move(event) : event);
    if (!told) {
      plugin.counters->async_dropped.fetch_add(1, std::memory_order_relaxed);
      dropped.note(fmt::format("plugin {}, {}: {}", plugin.name, event_type_of(hook),
                               client != nullptr ? "queue full" : "not running"));
      continue;
    }
    schedule_notices_flush();
  }
}

// Once the event loop has run what is ready now: the sync calls of the requests that arrived together
// share a message.
void PluginCaller::schedule_calls_flush() {
  if (calls_flush_posted_) return;
  calls_flush_posted_ = true;
  boost::asio::post(executor_, [this] {
    calls_flush_posted_ = false;
    for (const auto& plugin : table().plugins) {
      if (auto* const client = client_of(plugin)) client->flush_calls();
    }
  });
}

void PluginCaller::schedule_notices_flush() {
  if (notices_flush_scheduled_) return;
  notices_flush_scheduled_ = true;
  notices_timer_.expires_after(kNoticeGathering);
  notices_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;  // the caller is being destroyed
    notices_flush_scheduled_ = false;
    flush_notices();
  });
}

void PluginCaller::flush_notices() {
  bool again = false;
  for (const auto& plugin : table().plugins) {
    if (auto* const client = client_of(plugin)) again = client->flush_notices() || again;
  }
  if (again) schedule_notices_flush();
}

}  // namespace eg::plugin
