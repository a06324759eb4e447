#!/usr/bin/python3
"""Event gateway plugin: one JSON line per system event, for an audit trail.

ASYNC on every system event, so it never delays or changes what the gateway does. Each line is
{"eventType": ..., "event": <the system event>}, written to stdout (which the gateway logs under
the plugin's name) or appended to the file AUDIT_LOG_FILE names.

    AUDIT_LOG_FILE=/var/log/event-gateway-audit.jsonl \
        event-gateway -dev -plugin examples/plugins/python/audit_logger.py
"""

import json
import os
import sys
import threading

import plugin_server

SYSTEM_EVENTS = [
    "gateway.event.received",
    "gateway.function.invoking",
    "gateway.function.invoked",
    "gateway.function.invocationFailed",
]


def make_react(out):
    lock = threading.Lock()  # React runs on several threads; lines must not interleave

    def react(event_type, event, event_json):
        line = json.dumps({"eventType": event_type, "event": event}, separators=(",", ":"))
        with lock:
            out.write(line + "\n")
            out.flush()
        return plugin_server.ReactResponse()

    return react


def main():
    plugin_server.check_started_by_gateway()
    path = os.environ.get("AUDIT_LOG_FILE")
    try:
        out = open(path, "a", encoding="utf-8") if path else sys.stdout
    except OSError as error:
        plugin_server.die(f"cannot open AUDIT_LOG_FILE: {error}")
    plugin_server.serve([(event, plugin_server.ASYNC) for event in SYSTEM_EVENTS], make_react(out))


if __name__ == "__main__":
    main()
