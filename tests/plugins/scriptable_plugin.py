#!/usr/bin/python3
"""A plugin for the black-box tests, whose behaviour comes from environment variables.

The gateway passes no arguments, so a test wraps it in a script that sets the variables and execs it
(exec, so that the gateway's SIGTERM reaches this process):

    #!/bin/sh
    export PLUGIN_SUBSCRIPTIONS=gateway.event.received:sync PLUGIN_VETO_ERROR=no PLUGIN_VETO_STATUS=403
    exec /path/to/tests/plugins/scriptable_plugin.py

PLUGIN_NAME             name in the record file (default: scriptable)
PLUGIN_SUBSCRIPTIONS    comma list of EVENT_TYPE[:sync|:async] (default async; unset: none)
PLUGIN_VETO_ERROR       React answers this error (a veto, for sync subscriptions)...
PLUGIN_VETO_STATUS      ...with this status code (default 0: the gateway's default, 400)...
PLUGIN_VETO_IF          ...only when the event's JSON, as sent, contains this substring
PLUGIN_TRANSFORM_DATA   bytes to answer as data when not vetoing, sent as is (not validated, so a
                        test can send malformed JSON too)
PLUGIN_DELAY_MS         wait this long in every React, after recording it
PLUGIN_RECORD_FILE      append one JSON line per React call, on arrival:
                        {"plugin": PLUGIN_NAME, "pid": ..., "eventType": ..., "event": <parsed event>}
PLUGIN_STDERR_LINE      written to stderr at start, before the handshake
PLUGIN_STDOUT_LINE      written to stdout right after the handshake
PLUGIN_HANDSHAKE_LINE   printed instead of the real handshake line; {network} and {address} are
                        replaced by the real ones. The plugin serves as usual behind it.
PLUGIN_IGNORE_SIGTERM   1: ignore SIGTERM, so that only SIGKILL stops it
PLUGIN_STREAMS          1: take the events on ReactStream and Notify streams (recorded as React
                        calls are); otherwise each is a React call
plus the shared module's PLUGIN_NETWORK=tcp and PLUGIN_UNIX_SOCKET_DIR.
"""

import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                "..", "..", "examples", "plugins", "python"))
import plugin_server  # noqa: E402

env = os.environ.get
record_lock = threading.Lock()


def subscriptions():
    result = []
    for item in filter(None, (s.strip() for s in env("PLUGIN_SUBSCRIPTIONS", "").split(","))):
        event_type, _, mode = item.partition(":")
        if mode not in ("", "sync", "async"):
            plugin_server.die(f"PLUGIN_SUBSCRIPTIONS: {item!r}: the mode is sync or async")
        result.append((event_type, plugin_server.SYNC if mode == "sync" else plugin_server.ASYNC))
    return result


def number(name):
    try:
        return int(env(name, "0"))
    except ValueError:
        plugin_server.die(f"{name} must be an integer, not {env(name)!r}")


def react(event_type, event, event_json):
    if env("PLUGIN_RECORD_FILE"):
        line = json.dumps({"plugin": env("PLUGIN_NAME", "scriptable"), "pid": os.getpid(),
                           "eventType": event_type, "event": event})
        with record_lock, open(env("PLUGIN_RECORD_FILE"), "a", encoding="utf-8") as out:
            out.write(line + "\n")
    time.sleep(delay_ms / 1000)
    veto_if = env("PLUGIN_VETO_IF")
    if env("PLUGIN_VETO_ERROR") and (not veto_if or veto_if.encode() in event_json):
        return plugin_server.ReactResponse(error=env("PLUGIN_VETO_ERROR"),
                                           status_code=veto_status)
    return plugin_server.ReactResponse(data=env("PLUGIN_TRANSFORM_DATA", "").encode())


def main():
    global delay_ms, veto_status
    plugin_server.check_started_by_gateway()
    delay_ms, veto_status = number("PLUGIN_DELAY_MS"), number("PLUGIN_VETO_STATUS")
    if env("PLUGIN_STDERR_LINE"):
        print(env("PLUGIN_STDERR_LINE"), file=sys.stderr, flush=True)
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    if env("PLUGIN_IGNORE_SIGTERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_signals = (signal.SIGINT,)

    def handshake(network, address):
        line = env("PLUGIN_HANDSHAKE_LINE")
        if line is None:
            line = plugin_server.handshake_line(network, address)
        line = line.replace("{network}", network).replace("{address}", address)
        # The only moment we know the handshake is out: anything later on stdout is a log line.
        return line + ("\n" + env("PLUGIN_STDOUT_LINE") if env("PLUGIN_STDOUT_LINE") else "")

    plugin_server.serve(subscriptions(), react, stop_signals=stop_signals, handshake=handshake,
                        streams=env("PLUGIN_STREAMS") == "1")


if __name__ == "__main__":
    main()
