#include "routing/snapshot.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "store/keys.h"

namespace eg::routing {
namespace {

store::WatchEvent put(const std::string& key, const boost::json::object& value, std::int64_t revision) {
  return {store::WatchEvent::Type::Put,
          store::KeyValue{key, boost::json::serialize(value), revision, revision, 1}};
}

store::WatchEvent remove(const std::string& key, std::int64_t revision) {
  return {store::WatchEvent::Type::Delete, store::KeyValue{key, "", 0, revision, 0}};
}

boost::json::object function_json(const std::string& id, const std::string& url = "http://127.0.0.1/") {
  return {{"space", "default"}, {"functionId", id}, {"type", "http"}, {"provider", {{"url", url}}}};
}

std::string url_of(const providers::CompiledFunction* compiled) {
  return compiled == nullptr ? "<none>" : std::string(compiled->function.provider.at("url").as_string());
}

std::string subscription_key(const std::string& id) { return store::keys::subscription("default", id); }

boost::json::object http_subscription(const std::string& function_id, const std::string& path) {
  return {{"space", "default"}, {"subscriptionId", "http,GET," + path}, {"event", "http"},
          {"functionId", function_id}, {"path", path}, {"method", "GET"}};
}

boost::json::object custom_subscription(const std::string& event, const std::string& function_id,
                                        const std::string& path = "/team") {
  return {{"space", "default"}, {"subscriptionId", event + "," + function_id + ",%2Fteam"}, {"event", event},
          {"functionId", function_id}, {"path", path}};
}

boost::json::object invoke_subscription(const std::string& function_id) {
  return {{"space", "default"}, {"subscriptionId", "invoke," + function_id + ",%2F"}, {"event", "invoke"},
          {"functionId", function_id}, {"path", "/"}};
}

// The subscription serving GET `path`, or "<none>".
std::string routed_to(const RoutingSnapshot& snapshot, std::string_view path) {
  const auto match = snapshot.match_http("GET", path);
  return match ? match->value->subscription_id : "<none>";
}

std::vector<std::string> functions_of(const std::vector<Subscriber>& subscribers) {
  std::vector<std::string> functions;
  for (const auto& subscriber : subscribers) functions.push_back(subscriber.space + "/" + subscriber.function_id);
  return functions;
}

store::WatchEvent put_text(const std::string& key, const std::string& text, std::int64_t revision) {
  return {store::WatchEvent::Type::Put, store::KeyValue{key, text, revision, revision, 1}};
}

TEST(ConfigState, AnUnreadableRecordIsListedUntilItIsReplacedOrDeleted) {
  ConfigState state;
  const auto f = store::keys::function("default", "f");
  state.apply({put(f, function_json("f", "http://old/"), 2),
               put(subscription_key("s"), http_subscription("f", "/f"), 3)});
  ASSERT_EQ(url_of(state.build()->find_function("default", "f")), "http://old/");

  // Written behind the Configuration API's back, as an older gateway stored 1e400.
  state.apply(
      {put_text(f, R"({"space":"default","functionId":"f","type":"http","provider":{"n":Infinity}})", 4),
       put_text(subscription_key("bad"), R"({"space":"default"})", 5)});
  auto snapshot = state.build();
  EXPECT_EQ(url_of(snapshot->find_function("default", "f")), "http://old/") << "what was there stays routed";
  ASSERT_EQ(snapshot->unreadable_records().size(), 2u);
  EXPECT_NE(snapshot->unreadable_records().at(f).find("malformed JSON"), std::string::npos);
  EXPECT_TRUE(snapshot->unreadable_records().contains(subscription_key("bad")));

  state.apply({put(f, function_json("f", "http://new/"), 6), remove(subscription_key("bad"), 7)});
  const auto repaired = state.build();
  EXPECT_EQ(url_of(repaired->find_function("default", "f")), "http://new/");
  EXPECT_TRUE(repaired->unreadable_records().empty());
  EXPECT_EQ(snapshot->unreadable_records().size(), 2u) << "a published snapshot never changes";
}

TEST(ConfigState, ARecordWithANumberBeyondADoubleIsUnreadable) {
  ConfigState state;
  const auto f = store::keys::function("default", "f");
  state.reset(store::RangeResult{
      {store::KeyValue{f, R"({"space":"default","functionId":"f","type":"http","provider":{"n":1e400}})", 2,
                       2, 1}},
      2});
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->find_function("default", "f"), nullptr);
  ASSERT_EQ(snapshot->unreadable_records().size(), 1u);
  EXPECT_NE(snapshot->unreadable_records().at(f).find("number out of range"), std::string::npos);
}

TEST(ConfigState, BuildsEveryKindOfRoute) {
  ConfigState state;
  state.apply({put(store::keys::function("default", "f"), function_json("f"), 2),
               put(subscription_key("s1"), http_subscription("f", "/users/:id"), 3),
               put(subscription_key("s2"), custom_subscription("user.created", "f"), 4),
               put(subscription_key("s3"), invoke_subscription("f"), 5),
               put(subscription_key("s4"), custom_subscription("gateway.function.invoked", "f", "/"), 6)});
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->revision(), 6);
  ASSERT_NE(snapshot->find_function("default", "f"), nullptr);
  const auto match = snapshot->match_http("GET", "/users/7");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->value->function_id, "f");
  EXPECT_EQ(match->params, (PathParams{{"id", "7"}}));
  EXPECT_FALSE(snapshot->match_http("POST", "/users/7"));
  EXPECT_EQ(snapshot->subscribers("/team", "user.created").size(), 1U);
  EXPECT_TRUE(snapshot->subscribers("/other", "user.created").empty());
  EXPECT_EQ(snapshot->system_event_subscribers("default", "gateway.function.invoked").size(), 1U);
  EXPECT_TRUE(snapshot->system_event_subscribers("other", "gateway.function.invoked").empty())
      << "spaces keep their system events";
  EXPECT_EQ(snapshot->subscribers("/", "gateway.function.invoked").size(), 1U);
  EXPECT_TRUE(snapshot->has_invoke_subscription("default", "f"));
  EXPECT_FALSE(snapshot->has_invoke_subscription("other", "f"));
}

TEST(ConfigState, ReplayedAndStaleEventsChangeNothing) {
  ConfigState state;
  const auto key = store::keys::subscription("default", "s1");
  state.apply({put(key, http_subscription("f", "/a"), 2), remove(key, 3)});
  state.apply({put(key, http_subscription("f", "/a"), 2)});  // replayed after its delete
  EXPECT_FALSE(state.build()->match_http("GET", "/a"));
  state.apply({put(key, http_subscription("f", "/b"), 4), put(key, http_subscription("f", "/a"), 2)});
  EXPECT_TRUE(state.build()->match_http("GET", "/b"));
  EXPECT_FALSE(state.build()->match_http("GET", "/a"));
}

TEST(ConfigState, ResetReplacesEverything) {
  ConfigState state;
  state.apply({put(store::keys::function("default", "old"), function_json("old"), 2)});
  store::RangeResult everything;
  everything.revision = 9;
  everything.kvs.push_back(put(store::keys::function("default", "new"), function_json("new"), 8).kv);
  state.reset(everything);
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->revision(), 9);
  EXPECT_EQ(snapshot->find_function("default", "old"), nullptr);
  EXPECT_NE(snapshot->find_function("default", "new"), nullptr);
}

// --- changes, and the snapshots taken before them ---

TEST(ConfigState, ASnapshotStaysAsItWasWhateverChangesFollow) {
  ConfigState state;
  const auto function = store::keys::function("default", "f");
  state.apply({put(function, function_json("f"), 2), put(subscription_key("s1"), http_subscription("f", "/a"), 3),
               put(subscription_key("s2"), custom_subscription("user.created", "f"), 4),
               put(subscription_key("s3"), invoke_subscription("f"), 5),
               put(subscription_key("s4"), custom_subscription("gateway.event.received", "f"), 6)});
  const auto before = state.build();

  state.apply({put(function, function_json("f", "http://127.0.0.1:9/"), 7), remove(subscription_key("s1"), 8),
               put(subscription_key("s5"), http_subscription("f", "/b"), 9), remove(subscription_key("s2"), 10),
               remove(subscription_key("s3"), 11), remove(subscription_key("s4"), 12),
               put(store::keys::function("default", "g"), function_json("g"), 13)});
  const auto after = state.build();

  EXPECT_EQ(before->revision(), 6);
  EXPECT_EQ(url_of(before->find_function("default", "f")), "http://127.0.0.1/");
  EXPECT_EQ(before->find_function("default", "g"), nullptr);
  EXPECT_EQ(routed_to(*before, "/a"), "http,GET,/a");
  EXPECT_EQ(routed_to(*before, "/b"), "<none>");
  EXPECT_EQ(before->subscribers("/team", "user.created").size(), 1U);
  EXPECT_EQ(before->system_event_subscribers("default", "gateway.event.received").size(), 1U);
  EXPECT_TRUE(before->has_invoke_subscription("default", "f"));

  EXPECT_EQ(after->revision(), 13);
  EXPECT_EQ(url_of(after->find_function("default", "f")), "http://127.0.0.1:9/");
  EXPECT_EQ(url_of(after->find_function("default", "g")), "http://127.0.0.1/");
  EXPECT_EQ(routed_to(*after, "/a"), "<none>");
  EXPECT_EQ(routed_to(*after, "/b"), "http,GET,/b");
  EXPECT_TRUE(after->subscribers("/team", "user.created").empty());
  EXPECT_TRUE(after->system_event_subscribers("default", "gateway.event.received").empty());
  EXPECT_FALSE(after->has_invoke_subscription("default", "f"));
}

TEST(ConfigState, DeletesLeaveNothingBehind) {
  ConfigState state;
  const auto function = store::keys::function("default", "f");
  state.apply({put(function, function_json("f"), 2), put(subscription_key("s1"), http_subscription("f", "/a/b"), 3),
               put(subscription_key("s2"), http_subscription("f", "/a/:id"), 4),
               put(subscription_key("s3"), custom_subscription("user.created", "f"), 5),
               put(subscription_key("s4"), invoke_subscription("f"), 6),
               put(subscription_key("s5"), invoke_subscription("f"), 7)});
  state.apply({remove(subscription_key("s1"), 8), remove(subscription_key("s2"), 9),
               remove(subscription_key("s3"), 10), remove(subscription_key("s4"), 11)});
  // Two invoke subscriptions of one function: it stays invokable until both are gone.
  EXPECT_TRUE(state.build()->has_invoke_subscription("default", "f"));
  state.apply({remove(subscription_key("s5"), 12), remove(function, 13)});
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->find_function("default", "f"), nullptr);
  EXPECT_EQ(routed_to(*snapshot, "/a/b"), "<none>");
  EXPECT_EQ(routed_to(*snapshot, "/a/7"), "<none>");
  EXPECT_TRUE(snapshot->http_methods_at("/a/b").empty());
  EXPECT_TRUE(snapshot->subscribers("/team", "user.created").empty());
  EXPECT_FALSE(snapshot->has_invoke_subscription("default", "f"));
  // Deleting what is not there changes nothing.
  state.apply({remove(subscription_key("never"), 14)});
  EXPECT_EQ(state.build()->revision(), 14);
}

TEST(ConfigState, AConflictingRouteIsRoutedOnceThePathItConflictsWithIsDeleted) {
  ConfigState state;
  state.apply({put(subscription_key("a"), http_subscription("f", "/users/:id"), 2),
               put(subscription_key("b"), http_subscription("f", "/users/:name"), 3),
               put(subscription_key("c"), http_subscription("f", "/users/:id/"), 4)});
  const auto all_three = state.build();
  EXPECT_EQ(routed_to(*all_three, "/users/7"), "http,GET,/users/:id");
  // b comes before c (a duplicate of a's path, which conflicts with b's) in key order.
  state.apply({remove(subscription_key("a"), 5)});
  EXPECT_EQ(routed_to(*state.build(), "/users/7"), "http,GET,/users/:name");
  state.apply({remove(subscription_key("b"), 6)});
  EXPECT_EQ(routed_to(*state.build(), "/users/7"), "http,GET,/users/:id/");
  EXPECT_EQ(routed_to(*all_three, "/users/7"), "http,GET,/users/:id");
}

// A reload routes the first of two conflicting paths in key order; so does a change, whichever
// arrived first, so every instance of a cluster routes the same path.
TEST(ConfigState, OfTwoConflictingRoutesTheFirstByKeyIsRouted) {
  ConfigState state;
  state.apply({put(subscription_key("b"), http_subscription("f", "/users/:name"), 2)});
  EXPECT_EQ(routed_to(*state.build(), "/users/7"), "http,GET,/users/:name");
  state.apply({put(subscription_key("a"), http_subscription("f", "/users/:id"), 3)});
  EXPECT_EQ(routed_to(*state.build(), "/users/7"), "http,GET,/users/:id");
  // Deleting the one not routed changes nothing.
  state.apply({remove(subscription_key("b"), 4)});
  EXPECT_EQ(routed_to(*state.build(), "/users/7"), "http,GET,/users/:id");
}

TEST(ConfigState, AChangedSubscriptionMovesItsRoute) {
  ConfigState state;
  const auto key = subscription_key("s");
  state.apply({put(key, http_subscription("f", "/old"), 2), put(subscription_key("t"), http_subscription("f", "/new/:x"), 3)});
  state.apply({put(key, http_subscription("f", "/new/:y"), 4)});  // conflicts with t, which comes after it
  const auto snapshot = state.build();
  EXPECT_EQ(routed_to(*snapshot, "/old"), "<none>");
  EXPECT_EQ(snapshot->match_http("GET", "/new/1")->params, (PathParams{{"y", "1"}}));
  state.apply({put(key, custom_subscription("user.created", "f"), 5)});
  EXPECT_EQ(state.build()->match_http("GET", "/new/1")->params, (PathParams{{"x", "1"}}));
  EXPECT_EQ(state.build()->subscribers("/team", "user.created").size(), 1U);
}

TEST(ConfigState, SubscribersAreInKeyOrderWhateverTheOrderOfArrival) {
  ConfigState state;
  state.apply({put(subscription_key("c"), custom_subscription("user.created", "fc"), 2),
               put(subscription_key("a"), custom_subscription("user.created", "fa"), 3)});
  state.apply({put(subscription_key("b"), custom_subscription("user.created", "fb"), 4)});
  EXPECT_EQ(functions_of(state.build()->subscribers("/team", "user.created")),
            (std::vector<std::string>{"default/fa", "default/fb", "default/fc"}));
  state.apply({remove(subscription_key("b"), 5)});
  EXPECT_EQ(functions_of(state.build()->subscribers("/team", "user.created")),
            (std::vector<std::string>{"default/fa", "default/fc"}));
}

TEST(ConfigState, ReplaysAfterASnapshotChangeNeitherItNorTheNext) {
  ConfigState state;
  const auto key = subscription_key("s");
  state.apply({put(key, http_subscription("f", "/a"), 2), remove(key, 3),
               put(subscription_key("t"), http_subscription("f", "/t"), 4)});
  const auto before = state.build();
  state.apply({put(key, http_subscription("f", "/a"), 2), put(subscription_key("t"), http_subscription("f", "/u"), 4)});
  const auto after = state.build();
  for (const auto* snapshot : {before.get(), after.get()}) {
    EXPECT_EQ(routed_to(*snapshot, "/a"), "<none>");
    EXPECT_EQ(routed_to(*snapshot, "/t"), "http,GET,/t");
    EXPECT_EQ(routed_to(*snapshot, "/u"), "<none>");
    EXPECT_EQ(snapshot->revision(), 4);
  }
}

TEST(ConfigState, UnreadableRecordsKeepWhatWasThere) {
  ConfigState state;
  const auto key = subscription_key("s");
  state.apply({put(key, http_subscription("f", "/a"), 2)});
  state.apply({store::WatchEvent{store::WatchEvent::Type::Put, store::KeyValue{key, "{not json", 3, 3, 2}}});
  EXPECT_EQ(routed_to(*state.build(), "/a"), "http,GET,/a");
}

TEST(ConfigState, HttpRouteRefusalChecksAgainstTheRoutes) {
  ConfigState state;
  state.apply({put(subscription_key("s"), http_subscription("f", "/users/:id"), 2)});
  const auto snapshot = state.build();
  EXPECT_EQ(snapshot->http_route_refusal("GET", "/users/:name")->reason, PathRejection::Reason::Conflict);
  EXPECT_EQ(snapshot->http_route_refusal("GET", "/users/:id/")->reason, PathRejection::Reason::Duplicate);
  EXPECT_EQ(snapshot->http_route_refusal("GET", "users")->reason, PathRejection::Reason::Invalid);
  EXPECT_FALSE(snapshot->http_route_refusal("GET", "/users/:id/posts"));
  EXPECT_FALSE(snapshot->http_route_refusal("POST", "/users/:name"));
  EXPECT_EQ(snapshot->http_route_refusal("POST", "users")->reason, PathRejection::Reason::Invalid);
}

// A change copies what it touches and shares the rest with the snapshot before it: the same
// function objects, route values and subscriber lists.
TEST(ConfigState, AChangeSharesWhatItDoesNotTouch) {
  constexpr int kEach = 5000;
  ConfigState state;
  std::vector<store::WatchEvent> events;
  std::int64_t revision = 1;
  for (int i = 0; i < kEach; ++i) {
    const auto n = std::to_string(i);
    events.push_back(put(store::keys::function("default", "f" + n), function_json("f" + n), ++revision));
    events.push_back(put(subscription_key("http" + n), http_subscription("f" + n, "/r/" + n), ++revision));
    events.push_back(put(subscription_key("custom" + n), custom_subscription("e", "f" + n, "/p" + n), ++revision));
  }
  state.apply(events);
  const auto before = state.build();
  state.apply({put(store::keys::function("default", "f1"), function_json("f1", "http://127.0.0.1:9/"), ++revision),
               put(subscription_key("new"), http_subscription("f1", "/r/new"), ++revision),
               remove(subscription_key("custom1"), ++revision)});
  const auto after = state.build();

  EXPECT_NE(before->find_function("default", "f1"), after->find_function("default", "f1"));
  EXPECT_EQ(routed_to(*before, "/r/new"), "<none>");
  EXPECT_EQ(routed_to(*after, "/r/new"), "http,GET,/r/new");
  EXPECT_EQ(before->subscribers("/p1", "e").size(), 1U);
  EXPECT_TRUE(after->subscribers("/p1", "e").empty());
  for (int i = 2; i < kEach; ++i) {
    const auto n = std::to_string(i);
    ASSERT_EQ(before->find_function("default", "f" + n), after->find_function("default", "f" + n)) << i;
    ASSERT_EQ(before->match_http("GET", "/r/" + n)->value, after->match_http("GET", "/r/" + n)->value) << i;
    ASSERT_EQ(&before->subscribers("/p" + n, "e"), &after->subscribers("/p" + n, "e")) << i;
  }
}

// What a snapshot answers, for comparing two of them.
struct Observed {
  std::vector<std::string> answers;
  bool operator==(const Observed&) const = default;
};

void PrintTo(const Observed& observed, std::ostream* out) {
  for (const auto& answer : observed.answers) *out << "\n  " << answer;
}

Observed observe(const RoutingSnapshot& snapshot) {
  Observed observed;
  auto& out = observed.answers;
  for (const char* method : {"GET", "POST"}) {
    for (const char* path : {"/", "/u/1", "/u/me", "/u/1/x", "/f", "/f/x", "/f/y/z", "/a", "/a/b", "/zz"}) {
      const auto match = snapshot.match_http(method, path);
      std::string answer = std::string(method) + " " + path + " -> ";
      if (match) {
        answer += match->value->subscription_id + " " + match->value->function_id;
        for (const auto& [name, value] : match->params) answer.append(" ").append(name).append("=").append(value);
      }
      out.push_back(answer);
    }
  }
  for (const char* path : {"/p", "/q"}) {
    for (const char* event : {"e", "gateway.x"}) {
      for (const auto& function : functions_of(snapshot.subscribers(path, event))) {
        out.push_back(std::string(path) + " " + event + " <- " + function);
      }
    }
  }
  for (const auto& function : functions_of(snapshot.system_event_subscribers("default", "gateway.x"))) {
    out.push_back("system <- " + function);
  }
  for (int i = 0; i < 4; ++i) {
    const auto id = "f" + std::to_string(i);
    out.push_back(id + " " + url_of(snapshot.find_function("default", id)) + " invokable " +
                  std::to_string(snapshot.has_invoke_subscription("default", id)));
  }
  out.push_back("revision " + std::to_string(snapshot.revision()));
  return observed;
}

// Random batches of puts, deletes and replays, among paths that conflict with each other: after
// each batch the snapshot answers as one built from scratch from the same configuration (a reload),
// and every earlier snapshot still answers as it did.
TEST(ConfigState, RandomChangesEndWhereAReloadStarts) {
  std::mt19937 random(20240611);
  const auto pick = [&random](const auto& options) { return options[random() % options.size()]; };
  const std::vector<std::string> paths{"/",     "/u/:id", "/u/:name", "/u/me", "/u/:id/x", "/f/*p",
                                       "/f/x",  "/f/*q",  "/a",       "/a/",   "/a/b",     "/:any"};
  const std::vector<std::string> methods{"GET", "POST"};
  std::map<std::string, store::KeyValue> store_now;  // what the store holds
  std::vector<store::WatchEvent> history;
  std::int64_t revision = 1;
  ConfigState state;
  std::vector<std::pair<std::shared_ptr<const RoutingSnapshot>, Observed>> taken;

  const auto random_event = [&]() -> store::WatchEvent {
    const auto choice = random() % 10;
    if (choice == 0 && !history.empty()) return history[random() % history.size()];  // a replay
    const auto n = std::to_string(random() % 4);
    if (choice == 1) {
      const auto key = store::keys::function("default", "f" + n);
      ++revision;
      return put(key, function_json("f" + n, "http://127.0.0.1/" + std::to_string(revision)), revision);
    }
    if (choice == 2) return remove(store::keys::function("default", "f" + n), ++revision);
    const auto key = subscription_key("s" + std::to_string(random() % 16));
    if (choice == 3) return remove(key, ++revision);
    if (choice == 4) return put(key, invoke_subscription("f" + n), ++revision);
    if (choice == 5) {
      auto custom = custom_subscription(pick(std::vector<std::string>{"e", "gateway.x"}), "f" + n,
                                        pick(std::vector<std::string>{"/p", "/q"}));
      return put(key, custom, ++revision);
    }
    const auto path = pick(paths);
    auto http = http_subscription("f" + n, path);
    http["method"] = pick(methods);
    http["subscriptionId"] = key.substr(key.rfind('/') + 1) + " " + path;
    return put(key, http, ++revision);
  };

  for (int batch = 0; batch < 400; ++batch) {
    std::vector<store::WatchEvent> events;
    const auto size = 1 + random() % 5;
    for (std::size_t i = 0; i < size; ++i) {
      auto event = random_event();
      const bool replay = event.kv.mod_revision < revision;
      if (!replay) {
        history.push_back(event);
        if (event.type == store::WatchEvent::Type::Delete) {
          store_now.erase(event.kv.key);
        } else {
          store_now[event.kv.key] = event.kv;
        }
      }
      events.push_back(std::move(event));
    }
    state.apply(events);
    const auto snapshot = state.build();

    store::RangeResult everything;
    everything.revision = revision;
    for (const auto& [key, kv] : store_now) everything.kvs.push_back(kv);
    ConfigState reloaded;
    reloaded.reset(everything);
    const auto observed = observe(*snapshot);
    ASSERT_EQ(observed, observe(*reloaded.build())) << "after batch " << batch;
    taken.emplace_back(snapshot, observed);
  }
  for (const auto& [snapshot, observed] : taken) ASSERT_EQ(observe(*snapshot), observed);
}

TEST(SnapshotHolder, ReadersSeeEachPublishedSnapshot) {
  SnapshotHolder holder;
  SnapshotHolder::Reader reader(holder);
  EXPECT_EQ(reader.current().revision(), 0);
  ConfigState state;
  state.apply({put(store::keys::function("default", "f"), function_json("f"), 7)});
  holder.publish(state.build());
  EXPECT_EQ(reader.current().revision(), 7);
}

TEST(SnapshotHolder, WaitsForARevision) {
  SnapshotHolder holder;
  EXPECT_EQ(holder.wait_for_revision(0, std::chrono::milliseconds(0))->revision(), 0);
  EXPECT_EQ(holder.wait_for_revision(7, std::chrono::milliseconds(1)), nullptr);
  ConfigState state;
  state.apply({put(store::keys::function("default", "f"), function_json("f"), 7)});
  std::thread publisher([&] { holder.publish(state.build()); });
  const auto snapshot = holder.wait_for_revision(7, std::chrono::seconds(30));
  publisher.join();
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->revision(), 7);
}

}  // namespace
}  // namespace eg::routing
