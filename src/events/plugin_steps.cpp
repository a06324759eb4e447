#include "events/plugin_steps.h"

#include <fmt/format.h>

#include "common/json.h"
#include "common/rate_limited_log.h"

namespace eg::events {
namespace {

constexpr unsigned kBrokenTransformStatus = 500;

// Replaces the received event's data with a plugin's; data that was not JSON before is JSON now.
// Allowed once done, else the refusal.
plugin::Verdict transform(const plugin::PluginEntry& plugin, std::string_view data, Event& event,
                          Event& system_event) {
  auto parsed = common::parse_json(data);
  if (!parsed.ok()) {
    static common::RateLimitedWarning broken("a plugin's transform is not JSON: request refused with 500");
    broken.note(fmt::format("plugin {}: {}", plugin.name, parsed.error));
    return plugin::Verdict{.kind = plugin::Verdict::Kind::Unavailable,
                           .status = kBrokenTransformStatus,
                           .message = "plugin " + plugin.name + " returned data that is not JSON"};
  }
  event.data = std::move(parsed.value);
  if (!is_json_media_type(event.data_type)) event.data_type = "application/json";
  system_event.data.as_object()["event"] = event.to_json();
  return plugin::Verdict{};
}

}  // namespace

boost::asio::awaitable<std::optional<plugin::Verdict>> ask_sync_plugins(plugin::PluginCaller& caller,
                                                                        const plugin::PluginTable& plugins,
                                                                        plugin::Hook hook,
                                                                        Event& system_event,
                                                                        Event* transformed) {
  for (const auto& plugin : plugins.plugins) {
    if (plugin.mode(hook) != plugin::Mode::Sync) continue;
    auto verdict = co_await caller.ask(plugin, hook, system_event.serialize());
    if (verdict.kind != plugin::Verdict::Kind::Allowed) co_return verdict;
    if (verdict.data.empty()) continue;
    if (transformed == nullptr) {
      static common::RateLimitedWarning ignored(
          "a plugin sent data where it cannot transform anything: ignored");
      ignored.note(fmt::format("plugin {} on {}", plugin.name, plugin::event_type_of(hook)));
      continue;
    }
    auto transformed_verdict = transform(plugin, verdict.data, *transformed, system_event);
    if (transformed_verdict.kind != plugin::Verdict::Kind::Allowed) co_return transformed_verdict;
  }
  co_return std::nullopt;
}

}  // namespace eg::events
