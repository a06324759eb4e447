"""The plugin side of hashicorp/go-plugin's handshake, serving the gateway's Reacter service.

The gateway (docs/plugins.md) starts a plugin as a child process and talks to it over gRPC:

1. It sets EVENT_GATEWAY_MAGIC_COOKIE, so a plugin run by hand refuses to start (as go-plugin does),
   and PLUGIN_PROTOCOL_VERSIONS, the app protocol versions it speaks.
2. The plugin listens on a unix socket in a fresh 0700 directory (only this user can connect), or on
   127.0.0.1 with PLUGIN_NETWORK=tcp, and prints one line on stdout:
       1|1|unix|/tmp/event-gateway-plugin-XXXX/plugin.sock|grpc
   (core protocol | app protocol | network | address | protocol).
3. Later stdout and stderr lines go to the gateway's log. SIGTERM or SIGINT stops the server (calls
   in flight get SHUTDOWN_GRACE_SECONDS), removes the socket's directory and exits 0; so does the
   gateway's death (we notice within a second that we have a new parent).

A plugin calls check_started_by_gateway() first, reads its settings, then serve().
"""

import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import traceback
from concurrent import futures

try:
    import grpc
except ImportError:
    sys.exit("python3-grpcio is missing: install python3-grpcio and python3-protobuf "
             "(scripts/install-deps.sh), and run plugins with /usr/bin/python3, Debian's Python")

import reacter_pb2
import reacter_pb2_grpc

MAGIC_COOKIE_KEY = "EVENT_GATEWAY_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "0329c93c-a64c-4eb5-bf72-63172430d433"
CORE_PROTOCOL_VERSION = 1  # go-plugin's own handshake version
APP_PROTOCOL_VERSION = 1   # proto/plugin/v1
SHUTDOWN_GRACE_SECONDS = 2

SYNC = reacter_pb2.SYNC
ASYNC = reacter_pb2.ASYNC
ReactResponse = reacter_pb2.ReactResponse


def die(message):
    """Exits 1 with the message on stderr, which the gateway logs under the plugin's name."""
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def check_started_by_gateway():
    """Refuses to run unless the gateway started us, and unless it speaks our protocol version."""
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        name = sys.argv[0]
        die(f"this program is a plugin for the event gateway and is not meant to be run directly; "
            f"the gateway starts it: event-gateway -dev -plugin {name}")
    offered = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(APP_PROTOCOL_VERSION))
    if str(APP_PROTOCOL_VERSION) not in [v.strip() for v in offered.split(",")]:
        die(f"the gateway speaks plugin protocol versions {offered!r}, this plugin only "
            f"{APP_PROTOCOL_VERSION}: use a plugin built for this gateway's version")


def require_env(name, meaning):
    """The value of an environment variable the plugin cannot run without."""
    value = os.environ.get(name, "")
    if not value:
        die(f"{name} is not set: it must hold {meaning}")
    return value


class _Reacter(reacter_pb2_grpc.ReacterServicer):
    def __init__(self, subscriptions, react, streams):
        self._subscriptions = reacter_pb2.SubscriptionsResponse(subscriptions=[
            reacter_pb2.Subscription(event_type=event_type, type=kind)
            for event_type, kind in subscriptions], notify_stream=streams, react_stream=streams)
        self._react = react
        # ReactStream's calls run here, side by side, so that a slow one holds up no other.
        self._calls = futures.ThreadPoolExecutor(max_workers=16)

    def Subscriptions(self, request, context):
        return self._subscriptions

    def React(self, request, context):
        try:
            event = json.loads(request.event)
        except ValueError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"event is not JSON: {error}")
        try:
            return self._react(request.event_type, event, request.event)
        except Exception as error:
            # A sync subscription fails closed on this status; the traceback tells the operator why.
            traceback.print_exc()
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")

    def ReactStream(self, request_iterator, context):
        """The sync events, many per message, each answered by its id as soon as it is decided."""
        answers = queue.Queue()
        state = {"running": 0, "reading": True}
        lock = threading.Lock()

        def answer(call):
            try:
                response = self._react(call.request.event_type, json.loads(call.request.event),
                                       call.request.event)
            except Exception as error:
                # Fails closed as a failed React call does: the request is refused with 503.
                traceback.print_exc()
                response = ReactResponse(error=f"{type(error).__name__}: {error}", status_code=503)
            answers.put(reacter_pb2.ReactAnswer(id=call.id, response=response))

        def read():
            for message in request_iterator:
                for call in message.calls:
                    with lock:
                        state["running"] += 1
                    self._calls.submit(answer, call)
            with lock:
                state["reading"] = False
            answers.put(None)

        threading.Thread(target=read, daemon=True).start()
        while True:
            batch = [answers.get()]
            while not answers.empty():
                batch.append(answers.get())
            done = [a for a in batch if a is not None]
            with lock:
                state["running"] -= len(done)
                finished = not state["reading"] and state["running"] == 0
            if done:
                yield reacter_pb2.ReactStreamResponse(answers=done)
            if finished:
                return

    def Notify(self, request_iterator, context):
        """The async events, many per message, until the gateway closes the stream."""
        for message in request_iterator:
            for request in message.events:
                try:
                    self._react(request.event_type, json.loads(request.event), request.event)
                except Exception:  # an async event has no one to answer: log and go on
                    traceback.print_exc()
        return reacter_pb2.NotifyResponse()


def handshake_line(network, address):
    """go-plugin's line; its 6th field, a server certificate for AutoMTLS, is left out: we serve no TLS."""
    return f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{network}|{address}|grpc"


def serve(subscriptions, react, stop_signals=(signal.SIGTERM, signal.SIGINT), handshake=handshake_line,
          streams=True):
    """Serves Reacter until a stop signal, then exits 0.

    subscriptions: [(event_type, SYNC or ASYNC)], answered to every Subscriptions call.
    react(event_type, event, event_json) -> ReactResponse, called on the server's worker threads:
        event is the parsed system event, event_json the bytes the gateway sent. For an async
        subscription the answer is ignored.
    handshake(network, address) -> str: the line to print (tests replace it).
    streams: the events arrive on ReactStream (sync) and Notify (async) streams, many per message
        (the cheap way), rather than as a React call each.
    """
    check_started_by_gateway()
    # Blocked before any gRPC thread exists, so every thread inherits the mask and the signals wait
    # for sigtimedwait below: no handler runs in the middle of other code.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    reacter_pb2_grpc.add_ReacterServicer_to_server(_Reacter(subscriptions, react, streams), server)
    socket_dir = None
    try:
        try:
            if os.environ.get("PLUGIN_NETWORK", "unix") == "tcp":
                network, port = "tcp", server.add_insecure_port("127.0.0.1:0")
                address = f"127.0.0.1:{port}"
            else:
                # PLUGIN_UNIX_SOCKET_DIR is go-plugin's name for where the socket goes.
                socket_dir = tempfile.mkdtemp(prefix="event-gateway-plugin-",
                                              dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or None)
                network, address = "unix", os.path.join(socket_dir, "plugin.sock")
                server.add_insecure_port(f"unix:{address}")
        except (OSError, RuntimeError) as error:
            die(f"cannot listen for the gateway: {error}")
        server.start()

        print(handshake(network, address), flush=True)
        sys.stdout.reconfigure(line_buffering=True)  # later lines reach the gateway's log at once

        # A gateway killed with SIGKILL cannot stop us: when we are handed to another parent, stop.
        parent = os.getppid()
        while signal.sigtimedwait(stop_signals, 1.0) is None:
            if os.getppid() != parent:
                print("the gateway is gone: stopping", file=sys.stderr, flush=True)
                break
        server.stop(SHUTDOWN_GRACE_SECONDS).wait()
    finally:
        if socket_dir:
            shutil.rmtree(socket_dir, ignore_errors=True)
    # Not sys.exit: it would wait for React calls still running past the grace period.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
