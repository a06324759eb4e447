#!/usr/bin/python3
"""Drives a plugin the way the gateway does, without the gateway, and checks what it answers.

    check_plugin.py [--expect CASE=ok|veto:STATUS|data:JSON]... [--expect-lines FILE]
                    [--ignores-sigterm] PLUGIN

1. Run without the magic cookie, then with a wrong one: the plugin must exit 1 and name -plugin.
2. Start it with the gateway's environment (plus ours: PLUGIN_NETWORK=tcp and the plugin's own
   settings pass through), read the handshake line, connect over its unix socket or TCP port.
3. Call Subscriptions, then React once per case of each subscribed event type, and print answers.
   gateway.event.received has the cases no-auth, wrong-token, bearer and lowercase (name and scheme
   in lower case); with the token of AUTHORIZER_TOKEN (set for the plugin too, default s3cret).
   Other event types have one case, named by the type's last part: invoking, invoked,
   invocationFailed. The case malformed sends bytes that are not JSON and must get a gRPC error.
   A plugin that sets react_stream gets its sync cases once more, in one message on a ReactStream,
   and must answer each id once, as React did; one that sets notify_stream gets its async cases once
   more, in one message on a Notify stream.
4. --expect checks answers; --expect-lines FILE checks that the plugin appended one JSON line per
   React call and Notify event to FILE, in order, with the event type and event sent (an audit log or
   a record file).
5. SIGTERM: the plugin must exit 0 within 5 s and remove its socket (with --ignores-sigterm, it must
   still run after 3 s, and SIGKILL ends it).
Exits 1 when a check fails.
"""

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)),
                                "..", "..", "examples", "plugins", "python"))
import grpc  # noqa: E402
import reacter_pb2  # noqa: E402
import reacter_pb2_grpc  # noqa: E402

COOKIE = ("EVENT_GATEWAY_MAGIC_COOKIE", "0329c93c-a64c-4eb5-bf72-63172430d433")
failures = []


def check(ok, message):
    print(("  ok    " if ok else "  FAIL  ") + message)
    if not ok:
        failures.append(message)


def system_event(event_type, data):
    return {"event": event_type, "id": str(uuid.uuid4()), "receivedAt": int(time.time() * 1000),
            "dataType": "application/json", "data": data}


def cases(event_type, token):
    """(case name, event JSON bytes) for one subscribed event type."""
    inner = system_event("user.created", {"name": "Ada"})
    if event_type == "gateway.event.received":
        def received(headers):
            return system_event(event_type, {"event": inner, "space": "default", "path": "/",
                                             "headers": {"Content-Type": "application/json", **headers}})
        named = [("no-auth", received({})),
                 ("wrong-token", received({"Authorization": "Bearer wrong-" + token})),
                 ("bearer", received({"Authorization": "Bearer " + token})),
                 ("lowercase", received({"authorization": "bearer " + token}))]
    else:
        data = {"event": inner, "space": "default", "functionId": "sendEmail"}
        if event_type == "gateway.function.invoked":
            data["result"] = {"sent": True}
        if event_type == "gateway.function.invocationFailed":
            data.update(error="connection refused", attempt=1, willRetry=True)
        named = [(event_type.rsplit(".", 1)[-1], system_event(event_type, data))]
    return [(name, json.dumps(event).encode()) for name, event in named]


def describe(response):
    if response.error:
        return f"veto:{response.status_code}"
    if response.data:
        return "data:" + response.data.decode(errors="replace")
    return "ok"


def refuses_without_cookie(plugin, env):
    for label, cookie in (("no cookie", None), ("wrong cookie", "not-the-cookie")):
        child_env = {k: v for k, v in env.items() if k != COOKIE[0]}
        if cookie:
            child_env[COOKIE[0]] = cookie
        run = subprocess.run([plugin], env=child_env, capture_output=True, text=True, timeout=20)
        check(run.returncode == 1 and "-plugin" in run.stderr,
              f"{label}: exit {run.returncode}, stderr {run.stderr.strip()!r}")


def read_handshake(process, timeout=20):
    """The first stdout line, read without blocking past the deadline."""
    fd, line, deadline = process.stdout.fileno(), b"", time.monotonic() + timeout
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
        chunk = os.read(fd, 1) if ready else b""
        if not chunk:
            return None
        line += chunk
    return line.decode().rstrip("\n")


def drain(stream, tag, lines):
    for raw in iter(stream.readline, b""):
        lines.append(f"{tag}: {raw.decode(errors='replace').rstrip()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("plugin")
    parser.add_argument("--expect", action="append", default=[], metavar="CASE=RESULT")
    parser.add_argument("--expect-lines", metavar="FILE")
    parser.add_argument("--ignores-sigterm", action="store_true")
    args = parser.parse_args()
    expected = dict(item.split("=", 1) for item in args.expect)

    token = os.environ.get("AUTHORIZER_TOKEN", "s3cret")
    env = {**os.environ, COOKIE[0]: COOKIE[1], "PLUGIN_PROTOCOL_VERSIONS": "1",
           "AUTHORIZER_TOKEN": token}
    print(f"== {args.plugin}")
    refuses_without_cookie(args.plugin, env)

    started = time.monotonic()
    process = subprocess.Popen([args.plugin], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    logs = []
    threading.Thread(target=drain, args=(process.stderr, "stderr", logs), daemon=True).start()
    line = read_handshake(process)
    fields = (line or "").split("|")
    valid = len(fields) in (5, 6) and fields[0] == "1" and fields[1] == "1" \
        and fields[2] in ("unix", "tcp") and fields[4] == "grpc" and fields[5:] in ([], [""])
    check(valid, f"handshake {line!r} after {(time.monotonic() - started) * 1000:.0f} ms")
    if not valid:
        stop(process)
        return finish(process, logs)
    threading.Thread(target=drain, args=(process.stdout, "stdout", logs), daemon=True).start()
    network, address = fields[2], fields[3]

    channel = grpc.insecure_channel(f"unix:{address}" if network == "unix" else address)
    grpc.channel_ready_future(channel).result(timeout=10)
    stub = reacter_pb2_grpc.ReacterStub(channel)
    answer = stub.Subscriptions(reacter_pb2.SubscriptionsRequest(), timeout=10)
    kinds = {s.event_type: reacter_pb2.SubscriptionType.Name(s.type) for s in answer.subscriptions}
    check(True, f"Subscriptions: {kinds}" + (", notify_stream" if answer.notify_stream else "")
          + (", react_stream" if answer.react_stream else ""))

    sent = []
    unary = {}
    for event_type in kinds:
        for name, event in cases(event_type, token):
            begun = time.monotonic()
            response = stub.React(reacter_pb2.ReactRequest(event_type=event_type, event=event), timeout=10)
            sent.append((event_type, json.loads(event)))
            result = describe(response)
            unary[(event_type, name)] = result
            ok = name not in expected or expected.pop(name) == result
            check(ok, f"React {name:<16} -> {result}" + (f" {response.error!r}" if response.error else "")
                  + f" ({(time.monotonic() - begun) * 1000:.0f} ms)")
    if kinds:
        try:
            stub.React(reacter_pb2.ReactRequest(event_type=next(iter(kinds)), event=b"{not json"), timeout=10)
            check(False, "React malformed        -> answered, expected a gRPC error")
        except grpc.RpcError as error:
            check(True, f"React malformed        -> {error.code().name} {error.details()!r}")
    check(not expected, f"every expected case ran (left: {sorted(expected)})")

    # The sync cases once more, as the gateway sends them to a plugin with ReactStream: one message of
    # calls with ids; each must be answered once, as React answered it.
    sync_kinds = [t for t, kind in kinds.items() if kind == "SYNC"]
    if answer.react_stream and sync_kinds:
        calls = [(t, name, event) for t in sync_kinds for name, event in cases(t, token)]
        message = reacter_pb2.ReactStreamRequest(calls=[
            reacter_pb2.ReactCall(id=100 + i, request=reacter_pb2.ReactRequest(event_type=t, event=event))
            for i, (t, _, event) in enumerate(calls)])
        begun = time.monotonic()
        answered = {}
        for response in stub.ReactStream(iter([message]), timeout=10):
            for one in response.answers:
                if one.id in answered:
                    check(False, f"ReactStream answered id {one.id} twice")
                answered[one.id] = describe(one.response)
        sent.extend((t, json.loads(event)) for t, _, event in calls)
        same = all(answered.get(100 + i) == unary[(t, name)] for i, (t, name, _) in enumerate(calls))
        check(same and len(answered) == len(calls),
              f"ReactStream {len(calls)} calls in one message -> {len(answered)} answers, "
              f"{'as React answered' if same else 'NOT as React answered: ' + str(answered)} "
              f"({(time.monotonic() - begun) * 1000:.0f} ms)")

    # The async cases once more, as the gateway sends them to a plugin with Notify: one stream, the
    # events in one message, answered once the stream ends.
    async_kinds = [t for t, kind in kinds.items() if kind == "ASYNC"]
    if answer.notify_stream and async_kinds:
        notices = [(t, event) for t in async_kinds for _, event in cases(t, token)]
        message = reacter_pb2.NotifyRequest(
            events=[reacter_pb2.ReactRequest(event_type=t, event=event) for t, event in notices])
        begun = time.monotonic()
        stub.Notify(iter([message]), timeout=10)
        sent.extend((t, json.loads(event)) for t, event in notices)
        check(True, f"Notify {len(notices)} events in one message -> answered "
              f"({(time.monotonic() - begun) * 1000:.0f} ms)")

    if args.expect_lines:
        with open(args.expect_lines, encoding="utf-8") as lines_file:
            written = [json.loads(raw) for raw in lines_file if raw.strip()]
        matches = len(written) == len(sent) and all(
            line.get("eventType") == t and line.get("event") == e for line, (t, e) in zip(written, sent))
        check(matches, f"{args.expect_lines}: {len(written)} lines for {len(sent)} events sent, "
              f"event types and events {'as sent' if matches else 'DIFFER'}")
    channel.close()

    process.send_signal(signal.SIGTERM)
    if args.ignores_sigterm:
        time.sleep(3)
        check(process.poll() is None, "still running 3 s after SIGTERM")
        process.kill()
        if network == "unix":  # SIGKILL left the socket behind
            shutil.rmtree(os.path.dirname(address), ignore_errors=True)
    else:
        try:
            check(process.wait(5) == 0, f"SIGTERM: exit {process.returncode}")
        except subprocess.TimeoutExpired:
            check(False, "SIGTERM: still running after 5 s")
            process.kill()
        if network == "unix":
            check(not os.path.exists(os.path.dirname(address)), f"{os.path.dirname(address)} removed")
    return finish(process, logs)


def stop(process):
    """SIGTERM first, so that the plugin removes its socket."""
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()


def finish(process, logs):
    process.wait()
    time.sleep(0.1)  # let the drain threads read the last lines
    for line in logs:
        print("  " + line)
    print("PASS" if not failures else f"FAILED: {len(failures)} check(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
