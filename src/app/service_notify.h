#pragma once
// Tells the service manager how the start and the stop go, for a systemd unit of Type=notify
// (packaging/event-gateway.service.in): READY=1 once both APIs listen, STOPPING=1 when SIGTERM or
// SIGINT starts the drain. Through libsystemd's sd_notify(3), loaded only when NOTIFY_SOCKET is in the
// environment: a gateway that systemd did not start, or started as a unit of another type, sends
// nothing and does not map libsystemd (six libraries, about 0.75 MiB of RSS: docs/install.md).

#include <string>

namespace eg::app {

// READY=1, with `status` as STATUS= (what `systemctl status` shows).
void notify_service_ready(const std::string& status);
void notify_service_stopping();

}  // namespace eg::app
