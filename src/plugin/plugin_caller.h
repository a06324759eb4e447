#pragma once
// What an Events API thread asks of the plugins (docs/plugins.md), one PluginCaller per thread: a
// sync plugin's verdict on a system event, awaited on the thread's event loop, and the async
// notices, which never wait. Reading the plugin table costs one atomic load per request.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "plugin/hooks.h"
#include "plugin/plugin_host.h"

namespace eg::plugin {

struct Verdict {
  enum class Kind {
    Allowed,      // the plugin had no objection
    Vetoed,       // its answer carried an error
    Unavailable,  // it is down, did not answer in time, or its call failed: fails closed
  };
  Kind kind = Kind::Allowed;
  // The caller's status: the plugin's for a veto (400-599; 400 when it gave none or another), 503
  // when unavailable.
  unsigned status = 0;
  // The caller's error message: the plugin's own for a veto, else why the plugin named could not
  // answer.
  std::string message;
  // Allowed: JSON that replaces the event's data (a transform), when the plugin sent any.
  std::string data;
};

class PluginCaller {
 public:
  explicit PluginCaller(PluginHost& host) : host_(host), table_(host.table()) {}

  // The plugins as of now, kept alive across the calls of one request.
  std::shared_ptr<const PluginTable> pin() { return table_.pin(); }
  const PluginTable& table() { return table_.current(); }

  // Asks `plugin` (a sync subscriber of `hook`) about `event`, the system event's JSON.
  boost::asio::awaitable<Verdict> ask(const PluginEntry& plugin, Hook hook, std::string event);
  // Passes `event` to every async subscriber of `hook`, through each plugin's bounded queue: what does
  // not fit is dropped, counted and logged.
  void tell(const PluginTable& plugins, Hook hook, const std::string& event);

 private:
  PluginHost& host_;
  common::Published<PluginTable>::Reader table_;
};

}  // namespace eg::plugin
