#pragma once
// File descriptors, and how many connections each API may hold open by default. Every connection
// is a descriptor; so is every connection to a function, the store's files or sockets, each event
// loop's epoll, timer and wake-up descriptors, and each listener. When they run out, accept() fails
// and both APIs stop answering, so the connection caps (-max-connections) must leave room for the
// rest.

#include <cstddef>
#include <cstdint>

namespace eg::app {

// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit in force afterwards.
// Go's runtime has done the same at start since Go 1.19 (the original gateway is written in Go), for
// the same reason: the usual soft limit of 1024 is a leftover of select(), which nothing in the
// process uses, and far below what a server needs; the hard limit is what the administrator allows.
// When the hard limit is unlimited, raises it to the kernel's maximum (fs.nr_open). The gateway
// starts no other programs, which could be surprised by the higher limit.
std::uint64_t raise_descriptor_limit();

// The default -max-connections, per API, for a soft descriptor limit: a quarter of it. The Events
// API's connections may each wait for a connection to a function (a second quarter), the
// Configuration API may hold as many (a third), and the last quarter is left for idle keep-alive
// connections to functions (up to 256 per transport per Events API thread), asynchronous deliveries
// in flight (-workers), the store, the event loops and the listeners. At least 1.
std::size_t default_max_connections(std::uint64_t descriptor_limit);

}  // namespace eg::app
