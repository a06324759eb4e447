#pragma once
// The store of cluster mode: the Store interface on etcd's v3 gRPC API (KV Range/Txn/Compact,
// Watch, Auth Authenticate), so that many gateway instances share one configuration.
//
// - Every unary call has a deadline (request_timeout): when etcd is down or unreachable, reads,
//   writes and compactions throw StoreUnavailable within that time instead of hanging, and at once
//   while gRPC backs off after a failed connection attempt.
// - Endpoints are tried in order: calls go to the first whose connection is not failing, and move
//   on to the next one when it fails. Reads are retried on the next endpoint within the same
//   deadline; a transaction is never sent twice (it might have been applied), it fails instead.
// - Each watch runs its etcd Watch stream on a thread of its own. When the stream breaks (etcd
//   restarted, network lost) it reconnects with backoff, for as long as the handle lives, and
//   resumes from the revision after the last one it delivered; when etcd has compacted that
//   revision in the meantime the watch ends with RevisionCompacted. When the new stream shows that
//   etcd lost that history (its revision is below one it already answered this store with, confirmed
//   by a linearizable read, or its cluster id changed) the watch ends with StoreRewound.
// - Callbacks follow store.h and the embedded store: events of whole revisions, in order, never
//   concurrently for one watch; a callback may use the store and destroy its own handle; an
//   exception thrown by on_events ends the watch and goes to its on_error. Destroying the store
//   ends each live watch with on_error(StoreUnavailable("store closed")) before the destructor
//   returns. A callback must not destroy the store itself.

#include <chrono>
#include <memory>
#include <string>

#include "store/store.h"

namespace eg::store {

struct EtcdOptions {
  // Comma-separated host:port list, e.g. "127.0.0.1:2379,10.0.0.2:2379". An endpoint may carry a
  // scheme: "https://host:port" asks for TLS, "http://host:port" is the same as "host:port".
  std::string endpoints = "127.0.0.1:2379";
  // Deadline of every unary call (get, get_prefix, txn, compact, authentication).
  std::chrono::milliseconds request_timeout{2000};
  // TLS: any of these set (or an https:// endpoint) turns TLS on. ca_file: PEM roots to verify the
  // server with (empty: the system's roots); cert_file + key_file: the client certificate.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // etcd authentication: with a username, the store authenticates with etcd's Auth service and
  // sends the token with every call, authenticating again when etcd says the token expired.
  std::string username;
  std::string password;
  // Prepended to every key on the wire and removed from every key read back (etcd's "namespace"):
  // several independent keyspaces on one etcd. Empty in production; the tests use one per test.
  std::string key_prefix;
};

class EtcdStore : public Store {
 public:
  // Connects lazily: constructing never blocks and never fails because etcd is down. Throws
  // std::invalid_argument for an empty endpoint list, StoreUnavailable when a TLS file cannot be read.
  explicit EtcdStore(EtcdOptions options);
  ~EtcdStore() override;

  EtcdStore(const EtcdStore&) = delete;
  EtcdStore& operator=(const EtcdStore&) = delete;

  RangeResult get(const std::string& key) override;
  RangeResult get_prefix(const std::string& prefix) override;
  TxnResult txn(const TxnRequest& request) override;
  // start_revision <= 0 means "after the current revision", which is read from etcd here (so this
  // call throws StoreUnavailable when etcd is down); with a positive start_revision it never blocks
  // and the watch connects in the background.
  std::unique_ptr<WatchHandle> watch_prefix(const std::string& prefix, std::int64_t start_revision,
                                            WatchCallback on_events, WatchErrorCallback on_error) override;
  // Throws std::invalid_argument for a revision after the current one; compacting a revision that
  // is already compacted does nothing.
  void compact(std::int64_t revision) override;
  // "etcd (<endpoints>)".
  std::string describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::store
