#pragma once
// The gateway's optional parts that need gRPC (the etcd store, the plugin client) are shared objects
// next to the binary in a build, in lib/event-gateway/ once installed, loaded with dlopen only when
// they are used, so that a gateway that uses neither never maps gRPC, protobuf and abseil (about 50
// libraries, several MiB of RSS).

#include <string>

namespace eg::common {

// The address of `symbol` in the module `file_name`, found next to the running binary or, failing
// that, where `cmake --install` puts it relative to the binary (../lib/event-gateway/), so that a build
// directory, a copy of the binary with its modules, an installed tree in any prefix and the tests each
// find the module built with their binary.
// The module is loaded once (RTLD_LOCAL: its symbols stay its own) and never unloaded. Throws
// std::runtime_error naming the module's path, `needed_for` ("cluster mode") and the loader's
// reason.
// When the module file is not there, the message says how to get it.
void* load_module_entry(const std::string& file_name, const char* symbol, const std::string& needed_for);

// What a build configured without the modules (-DEG_WITH_GRPC=OFF, as scripts/dev.sh builds) says
// when `needed_for` asks for `module` ("the etcd client module"): that this build has none, and how
// to get a build that has. Throws std::runtime_error.
[[noreturn]] void module_not_built(const std::string& module, const std::string& needed_for);

}  // namespace eg::common
