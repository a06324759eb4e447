#pragma once
// What the flags of docs/security.md become: the API key files read, the allowed origins and the
// denied networks parsed, and the warnings a gateway open to anyone gives. Read once at start (a
// malformed file or value is a start error, exit status 2) and the key files again on SIGHUP.

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/options.h"
#include "auth/api_keys.h"
#include "config/cross_site.h"
#include "net/network_list.h"

namespace eg::app {

struct Security {
  std::shared_ptr<const auth::ApiKeys> config_keys;  // none: the Configuration API needs no key
  std::shared_ptr<const auth::ApiKeys> events_keys;  // none: custom events and invoke need no key
  config::CrossSitePolicy cross_site;
  std::shared_ptr<const net::NetworkList> denied_networks;
  // For the log at start and /v1/status, e.g. that anyone who reaches a clustered Configuration API
  // without keys can change routing.
  std::vector<std::string> warnings;
};

// The security settings `options` give, or nothing with `error` naming the flag and what is wrong.
// Whether the APIs are open beyond this machine is judged on options.listen_ips, once resolved: none
// counts as open.
std::optional<Security> load_security(const Options& options, std::string& error);

// The key files again (SIGHUP): true with `keys` replaced when both could be read; false, `keys`
// untouched and `error` saying why, when one could not.
bool reload_keys(const Options& options, Security& security, std::string& error);

// -hash-key: reads one key from `in` (a line; the line break is not part of the key) and prints its
// key file line to `out`, or why the key is unfit to `err`. The exit status.
int print_key_line(std::FILE* in, std::FILE* out, std::FILE* err);

}  // namespace eg::app
