#include "events/dispatcher.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json.h"
#include "common/log_fields.h"
#include "common/rate_limited_log.h"
#include "events/console_feed.h"
#include "events/plugin_steps.h"
#include "metrics/gateway_metrics.h"
#include "observe/traffic_tap.h"

namespace eg::events {
namespace asio = boost::asio;
using delivery::DeliveryTarget;
using delivery::Scheduled;

namespace {

// The function's answer as JSON where it is JSON the gateway may pass on, else as text: what
// system events carry.
boost::json::value result_value(const providers::CallResult& result) {
  auto parsed = common::parse_json(result.body);
  if (parsed.ok()) return std::move(parsed.value);
  return boost::json::string(result.body);
}

std::int64_t now_ms() { return now_millis(); }

// The `outcome` label of the function call metrics.
std::string_view outcome_label(providers::CallResult::Outcome outcome) {
  using Outcome = providers::CallResult::Outcome;
  switch (outcome) {
    case Outcome::Success:
      return "success";
    case Outcome::FunctionError:
      return "function_error";
    case Outcome::Unreachable:
      return "unreachable";
    case Outcome::Timeout:
      return "timeout";
    case Outcome::Refused:
      return "refused";
  }
  return "unknown";
}

// Notes how long the call took in `result` and counts it.
void count_call(const model::Function& function, providers::CallResult& result,
                std::chrono::steady_clock::time_point started) {
  result.took = std::chrono::steady_clock::now() - started;
  const auto outcome = outcome_label(result.outcome);
  metrics::function_calls.add({function.space, function.function_id, outcome});
  metrics::function_call_duration_seconds.observe({function.space, function.function_id, outcome},
                                                  result.took.count() / 1000);
}

// A call that a plugin refused, or could not be asked about: retried when the plugin could not answer.
providers::CallResult refused_call(const plugin::Verdict& verdict) {
  return providers::CallResult{.outcome = providers::CallResult::Outcome::Refused,
                               .refused_status = verdict.status,
                               .error = verdict.message,
                               .retryable = verdict.kind == plugin::Verdict::Kind::Unavailable};
}

// A delivery's provenance: the marks its target keeps, and the trace context its event's JSON
// carries (for a dead-letter notice, that of the event in the letter, the first one in its JSON).
Provenance provenance_of(const DeliveryTarget& target, std::string_view payload) {
  return Provenance{
      .hops = target.hops, .system_event = target.system_event, .trace = trace_context_in(payload)};
}

// The id of a dead letter: the same for every attempt to dead-letter one delivery, and kept by its
// redeliveries, so that the dead letters hold one record per delivery that failed.
std::string dead_letter_id(const Scheduled& delivery) {
  if (!delivery.target->dead_letter_id.empty()) return delivery.target->dead_letter_id;
  return std::string(delivery::view(delivery.event_id)) + "-" + std::to_string(delivery.key.index + 1);
}

// The event id inside an event's JSON text (dead letters keep the event as text).
std::string event_id_in(std::string_view event) {
  const auto json = common::parse_json(event);
  if (json.ok() && json.value.is_object()) {
    if (const auto* id = json.value.get_object().if_contains("id"); id != nullptr && id->is_string()) {
      return std::string(id->get_string());
    }
  }
  return new_event_id();
}

// The members of a gateway.function.* system event's data after "event" that name the function.
boost::json::object function_members(const model::Function& function) {
  return boost::json::object{{"space", function.space}, {"functionId", function.function_id}};
}

}  // namespace

boost::json::value Dispatcher::EventSource::to_json(const boost::json::storage_ptr& storage) const {
  if (event != nullptr) return event->to_json(storage);
  auto parsed = common::parse_json(payload, storage);
  return parsed.ok() ? std::move(parsed.value) : boost::json::value(boost::json::string(payload, storage));
}

boost::json::object Dispatcher::system_event_data(const EventSource& event, const boost::json::object& more) {
  auto storage = system_event_storage();
  boost::json::object data(storage);
  data.emplace("event", event.to_json(storage));
  for (const auto& member : more) data.emplace(member.key(), member.value());
  return data;
}

Dispatcher::Dispatcher(asio::io_context& io, routing::SnapshotHolder& snapshots, DeliveryStores stores,
                       const DispatcherOptions& options, Plugins plugins)
    : reader_(snapshots),
      http_(io, options.http),
      call_context_{http_},
      stores_(stores),
      options_(options),
      scheduler_(io, options.workers, options.per_function,
                 [this](Scheduled delivery) { return attempt(std::move(delivery)); }),
      random_(std::random_device{}()),
      sync_calls_done_(io) {
  if (plugins.host != nullptr) plugins_.emplace(*plugins.host, plugins.lane, io.get_executor());
}

// ---- accepting deliveries ----

asio::awaitable<bool> Dispatcher::publish(std::shared_ptr<const Event> event,
                                          const std::vector<routing::Subscriber>& subscribers,
                                          std::optional<std::string_view> only_space) {
  std::vector<DeliveryTarget> targets;
  targets.reserve(subscribers.size());
  for (const auto& subscriber : subscribers) {
    if (only_space && subscriber.space != *only_space) continue;
    targets.push_back(DeliveryTarget{.space = subscriber.space,
                                     .subscription_id = subscriber.subscription_id,
                                     .function_id = subscriber.function_id,
                                     .hops = event->provenance.hops,
                                     .system_event = event->provenance.system_event});
  }
  if (targets.empty()) co_return true;
  if (!spool_and_schedule(*event, targets)) co_return false;
  co_await stores_.spool.durable();
  co_return true;
}

// Appends the event with its deliveries to the spool and schedules them: the attempts may start
// before the record is durable (which only the caller's answer waits for).
bool Dispatcher::spool_and_schedule(const Event& event, const std::vector<DeliveryTarget>& targets) {
  if (draining_ || !stores_.capacity.try_take(targets.size())) return false;
  std::vector<delivery::NewDelivery> deliveries;
  deliveries.reserve(targets.size());
  for (const auto& target : targets)
    deliveries.push_back({.target = delivery::encode_target(target, event.id)});
  auto payload = std::make_shared<const std::string>(event.serialize());
  const auto key = stores_.spool.append(*payload, deliveries);
  if (!key) {
    stores_.capacity.give_back(targets.size());
    return false;
  }
  for (std::uint32_t index = 0; index < targets.size(); ++index) {
    schedule({*key, index}, targets[index], event.id, payload);
  }
  return true;
}

std::optional<delivery::DeliveryKey> Dispatcher::spool_one(std::string_view payload, DeliveryTarget target,
                                                           std::string_view event_id) {
  if (!stores_.capacity.try_take(1)) return std::nullopt;
  const delivery::NewDelivery spooled{.target = delivery::encode_target(target, event_id)};
  const auto key = stores_.spool.append(payload, std::span(&spooled, 1));
  if (!key) {
    stores_.capacity.give_back(1);
    return std::nullopt;
  }
  const delivery::DeliveryKey delivery_key{*key, 0};
  schedule(delivery_key, target, event_id, nullptr);
  return delivery_key;
}

void Dispatcher::schedule(delivery::DeliveryKey key, const DeliveryTarget& target, std::string_view event_id,
                          std::shared_ptr<const std::string> payload) {
  // Payloads stay in memory while they are few; the others wait on disk only.
  if (payload && cached_payload_bytes_ + payload->size() > options_.payload_cache_bytes) payload.reset();
  if (payload) cached_payload_bytes_ += payload->size();
  scheduler_.schedule(Scheduled{.key = key,
                                .target = intern(target),
                                .event_id = delivery::to_event_id(event_id),
                                .payload = std::move(payload),
                                .accepted_at = std::chrono::steady_clock::now()});
}

// Deliveries to one subscriber share one target in memory; targets no delivery holds any more are
// dropped whenever the table has doubled since the last sweep.
std::shared_ptr<const DeliveryTarget> Dispatcher::intern(const DeliveryTarget& target) {
  auto key = target.key();
  if (auto found = targets_.find(key); found != targets_.end()) return found->second;
  if (targets_.size() >= 2 * targets_purged_at_ + 64) {
    std::erase_if(targets_, [](const auto& entry) { return entry.second.use_count() == 1; });
    targets_purged_at_ = targets_.size();
  }
  auto shared = std::make_shared<const DeliveryTarget>(target);
  targets_.emplace(std::move(key), shared);
  return shared;
}

void Dispatcher::resume() {
  std::size_t resumed = 0;
  stores_.spool.recover([this, &resumed](delivery::PendingDelivery&& pending) {
    try {
      auto decoded = delivery::decode_target(pending.target);
      stores_.capacity.take(1);
      scheduler_.schedule(Scheduled{.key = pending.key,
                                    .target = intern(decoded.target),
                                    .event_id = decoded.event_id,
                                    .state = pending.state});
      ++resumed;
    } catch (const std::invalid_argument& error) {
      spdlog::error("spool: a pending delivery cannot be read and is left in the spool: {}", error.what());
    }
  });
  if (resumed > 0) spdlog::info("resuming {} deliveries accepted before the restart", resumed);
}

asio::awaitable<Redelivery> Dispatcher::redeliver(delivery::DeadLetter letter) {
  if (draining_) co_return Redelivery::Draining;
  const auto* subscriber = snapshot().find_subscriber(letter.space, letter.subscription_id);
  if (subscriber == nullptr) co_return Redelivery::SubscriptionGone;
  DeliveryTarget target{.space = letter.space,
                        .subscription_id = letter.subscription_id,
                        .function_id = subscriber->function_id,
                        .dead_letter_id = letter.id};
  // Marked first: the delivery may finish (and remove or replace the letter) before this returns.
  if (!stores_.dead_letters.mark_redelivering(letter.space, letter.id)) co_return Redelivery::LetterGone;
  if (!spool_one(letter.event, std::move(target), event_id_in(letter.event))) {
    stores_.dead_letters.put(letter);  // as it was: not redelivering
    co_return Redelivery::SpoolFull;
  }
  co_await stores_.spool.durable();
  co_return Redelivery::Accepted;
}

// ---- attempts ----

asio::awaitable<void> Dispatcher::attempt(Scheduled delivery) {
  std::shared_ptr<const std::string> payload = std::move(delivery.payload);
  if (payload) {
    cached_payload_bytes_ -= payload->size();
  } else {
    payload = std::make_shared<const std::string>(stores_.spool.claim(delivery.key));
  }
  const auto& target = *delivery.target;
  const auto routes = pinned_snapshot();  // alive until the function has answered
  const auto* subscriber = routes->find_subscriber(target.space, target.subscription_id);
  const auto compiled = routes->share_function(target.space, target.function_id);
  if (compiled == nullptr || (subscriber == nullptr && target.kind == DeliveryTarget::Kind::Subscriber)) {
    give_up(delivery, *payload,
            "the subscription or its function was removed before the event could be delivered", subscriber);
    co_return;
  }
  const auto policy = delivery::resolve(subscriber ? subscriber->delivery : std::nullopt, options_.retry);
  auto& state = delivery.state;
  ++state.attempts;
  if (state.first_attempt_ms == 0) state.first_attempt_ms = now_ms();
  count_attempt(delivery);

  const EventSource event{.payload = *payload};
  const auto provenance = provenance_of(target, *payload);
  const auto& function = compiled->function;
  const providers::CallMarks marks{.hops = target.hops + 1,
                                   .system_event = target.system_event,
                                   .event_id = delivery::view(delivery.event_id),
                                   .attempt = state.attempts,
                                   .traceparent = provenance.trace.traceparent,
                                   .tracestate = provenance.trace.tracestate};
  const auto result = co_await invoke(*compiled, event, provenance, *payload, marks);
  if (result.ok()) {
    report_result(function, event, provenance, result, {state.attempts, false});
    delivered(delivery);
    co_return;
  }
  const auto now = now_ms();
  const auto delay = result.retryable
                         ? delivery::next_delay(policy, state.attempts,
                                                std::chrono::milliseconds(now - state.first_attempt_ms),
                                                result.retry_after, random_)
                         : std::nullopt;
  report_result(function, event, provenance, result, {state.attempts, delay.has_value()});
  log_failed_attempt(delivery, *payload, provenance, result, delay);
  if (!delay) {
    give_up(delivery, *payload, result.error, subscriber);
    co_return;
  }
  metrics::deliveries_retried.add({target.space});
  // now is truncated to the millisecond; the +1 rounds up, so the wait is never shorter than the delay
  // (a Retry-After of one second must not be honoured after 999.5 ms).
  state.due_ms = now + delay->count() + 1;
  stores_.spool.retry_at(delivery.key, state);
  scheduler_.schedule(std::move(delivery));
}

// Every failed attempt is logged, with what a search needs (docs/logging.md): attempts are bounded
// by the spool's capacity and the retry policy.
void Dispatcher::log_failed_attempt(const Scheduled& delivery, std::string_view payload,
                                    const Provenance& provenance, const providers::CallResult& result,
                                    std::optional<std::chrono::milliseconds> retry_in) {
  const auto& target = *delivery.target;
  const auto event_name = event_name_in(payload);
  const auto event_id = delivery::view(delivery.event_id);
  const auto next = retry_in ? fmt::format("retrying in {} ms", retry_in->count()) : std::string("not retried");
  common::log_with_fields(spdlog::level::warn,
                          {{"space", target.space},
                           {"functionId", target.function_id},
                           {"subscriptionId", target.subscription_id},
                           {"event", event_name},
                           {"eventId", event_id},
                           {"status", common::unless_zero(result.status)},
                           {"durationMs", result.took.count()},
                           {"error", result.error},
                           {"traceId", provenance.trace.trace_id()},
                           {"attempt", static_cast<std::int64_t>(delivery.state.attempts)}},
                          "delivery of event {} to {}/{} failed, attempt {}, {}: {}", event_id, target.space,
                          target.function_id, delivery.state.attempts, next, result.error);
}

// The original's gateway_events_custom_processing_seconds: from accepting the event to the first
// call of its function; not known for the deliveries resumed after a restart.
void Dispatcher::count_attempt(const Scheduled& delivery) {
  metrics::deliveries_attempted.add({delivery.target->space});
  if (delivery.state.attempts != 1 || delivery.accepted_at == std::chrono::steady_clock::time_point{}) return;
  const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - delivery.accepted_at;
  metrics::events_custom_processing_seconds.observe({}, waited.count());
}

void Dispatcher::delivered(const Scheduled& delivery) {
  stores_.spool.acknowledge(delivery.key);
  stores_.capacity.give_back(1);
  const auto& target = *delivery.target;
  if (target.kind == DeliveryTarget::Kind::Subscriber && !target.dead_letter_id.empty()) {
    stores_.dead_letters.remove(target.space, target.dead_letter_id);
    spdlog::info("dead letter {} in space {} redelivered", target.dead_letter_id, target.space);
  }
}

// A dead-letter notice that fails for good is only logged: dead letters about dead letters would
// never end.
void Dispatcher::give_up(const Scheduled& delivery, const std::string& payload, const std::string& error,
                         const routing::Subscriber* subscriber) {
  const auto& target = *delivery.target;
  stores_.capacity.give_back(1);
  if (target.kind == DeliveryTarget::Kind::DeadLetterNotice) {
    spdlog::error("dead-letter function {}/{} did not take dead letter {} after {} attempts: {}",
                  target.space, target.function_id, target.dead_letter_id, delivery.state.attempts, error);
    stores_.spool.acknowledge(delivery.key);
    return;
  }
  const delivery::DeadLetter letter{.id = dead_letter_id(delivery),
                                    .space = target.space,
                                    .subscription_id = target.subscription_id,
                                    .function_id = target.function_id,
                                    .event = payload,
                                    .attempts = delivery.state.attempts,
                                    .first_attempt_ms = delivery.state.first_attempt_ms,
                                    .last_attempt_ms = now_ms(),
                                    .last_error = error};
  stores_.spool.dead_letter(delivery.key, letter);
  metrics::deliveries_dead_lettered.add({target.space});
  spdlog::warn("event {} to {}/{} failed for good after {} attempts and is dead letter {}: {}",
               delivery::view(delivery.event_id), target.space, target.function_id, delivery.state.attempts,
               letter.id, error);
  if (subscriber != nullptr && subscriber->delivery && subscriber->delivery->dead_letter_function_id) {
    notify_dead_letter_function(letter, target, *subscriber->delivery->dead_letter_function_id);
  }
}

void Dispatcher::notify_dead_letter_function(const delivery::DeadLetter& letter, const DeliveryTarget& target,
                                             const std::string& function_id) {
  DeliveryTarget notice{.kind = DeliveryTarget::Kind::DeadLetterNotice,
                        .space = target.space,
                        .subscription_id = target.subscription_id,
                        .function_id = function_id,
                        .hops = target.hops,
                        .system_event = target.system_event,
                        .dead_letter_id = letter.id};
  const auto record = boost::json::serialize(letter.to_json());
  if (!spool_one(record, std::move(notice), event_id_in(letter.event))) {
    spdlog::error("dead letter {} not passed to dead-letter function {}/{}: the spool is full", letter.id,
                  target.space, function_id);
  }
}

// ---- synchronous calls and system events ----

asio::awaitable<providers::CallResult> Dispatcher::call(const providers::CompiledFunction& compiled,
                                                        const Event& event, const std::string& payload) {
  const auto& function = compiled.function;
  const EventSource source{.event = &event, .payload = payload};
  const auto& provenance = event.provenance;
  const providers::CallMarks marks{.hops = provenance.hops + 1,
                                   .system_event = provenance.system_event,
                                   .traceparent = provenance.trace.traceparent,
                                   .tracestate = provenance.trace.tracestate};
  ++sync_calls_;
  auto result = co_await invoke(compiled, source, provenance, payload, marks);
  if (--sync_calls_ == 0) sync_calls_done_.cancel();
  report_result(function, source, provenance, result, {});
  co_return result;
}

asio::awaitable<providers::CallResult> Dispatcher::invoke(const providers::CompiledFunction& compiled,
                                                          const EventSource& event,
                                                          const Provenance& provenance,
                                                          const std::string& payload,
                                                          const providers::CallMarks& marks) {
  const auto& function = compiled.function;
  const auto started = std::chrono::steady_clock::now();
  // Where the call is counted, the console's live traffic hears of it: one load while nobody watches.
  const auto feed_console = [&](const providers::CallResult& result) {
    if (!observe::traffic_tap().watched()) return;
    const auto name = event.event != nullptr ? event.event->name : event_name_in(event.payload);
    feed_call(function, name, result, outcome_label(result.outcome), marks.attempt,
              provenance.trace.trace_id());
  };
  const auto invoking_members = function_members(function);
  const auto invoking = [&] {
    return make_system_event(plugin::event_type_of(plugin::Hook::FunctionInvoking),
                             system_event_data(event, invoking_members), provenance);
  };
  std::optional<Event> asked;
  if (plugins_) {
    const auto plugins = plugins_->pin();  // alive until every sync plugin has answered
    if (plugins->has_sync(plugin::Hook::FunctionInvoking)) {
      asked.emplace(invoking());
      const auto verdict =
          co_await ask_sync_plugins(*plugins_, *plugins, plugin::Hook::FunctionInvoking, *asked);
      if (verdict) {
        auto refused = refused_call(*verdict);
        count_call(function, refused, started);
        feed_console(refused);
        co_return refused;
      }
    }
  }
  if (wants_announcement(function.space, plugin::Hook::FunctionInvoking, provenance)) {
    if (asked) {
      announce(function.space, plugin::Hook::FunctionInvoking, std::move(*asked), provenance);
    } else {
      announce_about(function.space, plugin::Hook::FunctionInvoking, event, invoking_members, provenance);
    }
  }
  auto result = co_await compiled.call(payload, marks, call_context_);
  count_call(function, result, started);
  feed_console(result);
  co_return result;
}

bool Dispatcher::wants_announcement(std::string_view space, plugin::Hook hook, const Provenance& cause) {
  return plugins_want(hook) || (cause.reported() && wants_system_event(space, plugin::event_type_of(hook)));
}

void Dispatcher::announce(std::string_view space, plugin::Hook hook, Event system_event,
                          const Provenance& cause) {
  tell_plugins(hook, system_event);
  if (cause.reported()) emit_system_event(space, std::move(system_event), cause);
}

bool Dispatcher::plugins_want(plugin::Hook hook) { return plugins_ && plugins_->table().has_async(hook); }

void Dispatcher::tell_plugins(plugin::Hook hook, const Event& system_event) {
  if (plugins_want(hook)) plugins_->tell(plugins_->table(), hook, system_event.serialize());
}

void Dispatcher::tell_plugins(plugin::Hook hook, std::string serialized_system_event) {
  if (plugins_want(hook)) plugins_->tell(plugins_->table(), hook, std::move(serialized_system_event));
}

bool Dispatcher::wants_system_event(std::string_view space, std::string_view name) {
  return !snapshot().system_event_subscribers(space, name).empty();
}

void Dispatcher::emit_system_event(std::string_view space, Event event, const Provenance& cause) {
  const auto& name = event.name;
  // Pinned: the subscribers must outlive the spooling, whatever the snapshot does meanwhile.
  const auto routes = pinned_snapshot();
  const auto& subscribers = routes->system_event_subscribers(space, name);
  if (subscribers.empty()) return;
  event.provenance.hops = cause.hops;
  event.provenance.system_event = name;
  std::vector<DeliveryTarget> targets;
  targets.reserve(subscribers.size());
  for (const auto& subscriber : subscribers) {
    targets.push_back(DeliveryTarget{.space = subscriber.space,
                                     .subscription_id = subscriber.subscription_id,
                                     .function_id = subscriber.function_id,
                                     .hops = cause.hops,
                                     .system_event = name});
  }
  if (!spool_and_schedule(event, targets)) {
    static common::RateLimitedWarning refused("system event not delivered: the spool or the backlog is full");
    refused.note(fmt::format("{} in space {} to {} subscribers", name, space, subscribers.size()));
  }
}

void Dispatcher::report_result(const model::Function& function, const EventSource& event,
                               const Provenance& provenance, const providers::CallResult& result,
                               AttemptReport attempt) {
  const auto& space = function.space;
  const auto hook = result.ok() ? plugin::Hook::FunctionInvoked : plugin::Hook::FunctionInvocationFailed;
  // System event data copies the event: build it only for events someone hears of.
  if (!wants_announcement(space, hook, provenance)) return;
  auto more = function_members(function);
  if (result.ok()) {
    more["result"] = result_value(result);
  } else {
    more["error"] = result.error;
    more["attempt"] = attempt.attempt;
    more["willRetry"] = attempt.will_retry;
  }
  announce_about(space, hook, event, more, provenance);
}

void Dispatcher::announce_about(std::string_view space, plugin::Hook hook, const EventSource& event,
                                const boost::json::object& more, const Provenance& cause) {
  const auto name = plugin::event_type_of(hook);
  const bool plugins_only = !cause.reported() || !wants_system_event(space, name);
  // A delivery's record is parsed for the tree (to_json): only a sync call's text is known to be an
  // event's JSON.
  if (plugins_only && event.event != nullptr && !event.payload.empty()) {
    tell_plugins(hook, serialize_system_event(name, cause, event.payload,
                                              [&](std::string& text) { append_members(text, more); }));
    return;
  }
  announce(space, hook, make_system_event(name, system_event_data(event, more), cause), cause);
}

asio::awaitable<void> Dispatcher::drain(std::chrono::steady_clock::time_point deadline) {
  draining_ = true;
  scheduler_.stop();
  // Awaited on its own line: GCC 12 miscompiles a co_await inside an if condition.
  const bool idle = co_await scheduler_.idle(deadline);
  if (!idle) {
    spdlog::warn(
        "{} delivery attempts still running at the shutdown timeout: they stay in the spool and are "
        "made again after the restart",
        scheduler_.running());
  }
  while (sync_calls_ > 0 && std::chrono::steady_clock::now() < deadline) {
    sync_calls_done_.expires_at(deadline);
    co_await sync_calls_done_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace eg::events
