#pragma once
// The gateway-wide count of asynchronous deliveries accepted and not finished (waiting, running or
// waiting to be retried), whichever thread accepted them: one atomic counter, so the limit
// (-workers-backlog) holds across threads without a lock. It bounds the scheduler's index in
// memory, as -spool-max-bytes bounds the spool on disk.

#include "common/shared_limit.h"

namespace eg::delivery {

using Capacity = common::SharedLimit;

}  // namespace eg::delivery
