#pragma once
// The system events a plugin may subscribe to (docs/plugins.md), as the Reacter contract names them
// (proto/plugin/v1/reacter.proto). Only the first two can be vetoed: a sync subscription waits for
// the plugin before the gateway goes on.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace eg::plugin {

enum class Hook : std::size_t { EventReceived, FunctionInvoking, FunctionInvoked, FunctionInvocationFailed };
inline constexpr std::size_t kHookCount = 4;

inline constexpr std::array<std::string_view, kHookCount> kHookEventTypes = {
    "gateway.event.received", "gateway.function.invoking", "gateway.function.invoked",
    "gateway.function.invocationFailed"};

constexpr std::string_view event_type_of(Hook hook) {
  return kHookEventTypes[static_cast<std::size_t>(hook)];
}

constexpr std::optional<Hook> hook_of(std::string_view event_type) {
  for (std::size_t i = 0; i < kHookCount; ++i) {
    if (kHookEventTypes[i] == event_type) return static_cast<Hook>(i);
  }
  return std::nullopt;
}

// Whether the gateway can wait for a plugin's verdict on the hook: the step has not happened yet.
constexpr bool can_veto(Hook hook) { return hook == Hook::EventReceived || hook == Hook::FunctionInvoking; }

}  // namespace eg::plugin
