#pragma once
// The plugins' part in handling an event (docs/plugins.md): the sync subscribers of a system event
// are asked in -plugin order before the step it announces happens, each seeing the system event as
// the ones before it left it; the first that does not allow the step ends it.

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "events/event.h"
#include "plugin/plugin_caller.h"

namespace eg::events {

// Asks every sync subscriber of `hook` in `plugins` about `system_event`. With `transformed` (the
// received event, for gateway.event.received), a plugin's data replaces the event's data and the
// system event's copy of it, for the plugins after it and for what follows; a plugin whose data is
// not JSON fails the step (500). Nothing when every plugin allowed the step, else the verdict that
// ended it.
boost::asio::awaitable<std::optional<plugin::Verdict>> ask_sync_plugins(plugin::PluginCaller& caller,
                                                                        const plugin::PluginTable& plugins,
                                                                        plugin::Hook hook,
                                                                        Event& system_event,
                                                                        Event* transformed = nullptr);

}  // namespace eg::events
