#pragma once
// What an Events API thread asks of the plugins (docs/plugins.md), one PluginCaller per thread: a
// sync plugin's verdict on a system event, awaited on the thread's event loop, and the async
// notices, which never wait. Reading the plugin table costs one atomic load per request.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
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
  // `lane`: the Events API thread's number, which picks its client of each plugin; `executor`: that
  // thread's event loop.
  PluginCaller(PluginHost& host, unsigned lane, const boost::asio::any_io_executor& executor)
      : host_(host), lane_(lane), table_(host.table()), executor_(executor), notices_timer_(executor) {}

  // The plugins as of now, kept alive across the calls of one request.
  std::shared_ptr<const PluginTable> pin() { return table_.pin(); }
  const PluginTable& table() { return table_.current(); }

  // Asks `plugin` (a sync subscriber of `hook`) about `event`, the system event's JSON.
  boost::asio::awaitable<Verdict> ask(const PluginEntry& plugin, Hook hook, std::string event);
  // Passes `event` to every async subscriber of `hook`, through each plugin's bounded queue: what does
  // not fit is dropped, counted and logged. Queued events are sent within about 50 ms, many
  // per message, when the plugin has Notify streams.
  void tell(const PluginTable& plugins, Hook hook, std::string event);

 private:
  Verdict verdict_of(const PluginEntry& plugin, Hook hook, const ReactResult& result) const;
  ReacterClient* client_of(const PluginEntry& plugin) const {
    return plugin.clients.empty() ? nullptr : plugin.clients[lane_ % plugin.clients.size()].get();
  }

  // Flushes this lane's clients: their sync calls once per turn of the event loop, their async
  // events every 50 ms while they have any queued.
  void schedule_calls_flush();
  void schedule_notices_flush();
  void flush_notices();

  PluginHost& host_;
  const unsigned lane_;
  common::Published<PluginTable>::Reader table_;
  boost::asio::any_io_executor executor_;  // the thread's event loop
  boost::asio::steady_timer notices_timer_;
  bool notices_flush_scheduled_ = false;
  bool calls_flush_posted_ = false;
};

}  // namespace eg::plugin
