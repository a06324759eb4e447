#!/usr/bin/env python3
"""Memory and startup of the gateway, for bench/run.sh: prints a Markdown table.

Usage: resources.py GATEWAY_BINARY PRELOAD_STORE_BINARY WORK_DIR FUNCTION_URL

- ready: milliseconds from starting the process until the Configuration API answers /v1/status and
  the Events API accepts connections (median of 5 starts on an empty store);
- RSS (and its anonymous part: the rest is shared library pages) idle, and with 10k idle keep-alive connections (each has served one request);
- ready and RSS with 100k http subscriptions in the store (written by preload_store, then routed).
"""
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time

GATEWAY, PRELOAD_STORE, WORK, FUNCTION_URL = sys.argv[1:5]
SUBSCRIPTIONS = 100_000
IDLE_CONNECTIONS = 10_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    def __init__(self, data_dir):
        self.config_port, self.events_port = free_port(), free_port()
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [GATEWAY, "-dev", "-embed-data-dir", data_dir, "-listen-address", "127.0.0.1",
             "-config-port", str(self.config_port), "-events-port", str(self.events_port), "-log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (self._answers_status() and self._accepts(self.events_port)):
            if self.process.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit("the gateway did not become ready")
            time.sleep(0.001)
        self.ready_ms = (time.perf_counter() - started) * 1000

    def _answers_status(self):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.config_port, timeout=1)
            connection.request("GET", "/v1/status")
            return connection.getresponse().status == 200
        except OSError:
            return False

    @staticmethod
    def _accepts(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def rss_fields(self):
        fields = {}
        with open(f"/proc/{self.process.pid}/smaps_rollup") as rollup:
            for line in rollup:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
            return fields

    def memory(self):
        """RSS, and the part of it that is the process's own (anonymous) rather than shared library pages."""
        fields = self.rss_fields()
        return f"{fields['Rss']:.1f} MiB ({fields['Anonymous']:.1f} MiB anonymous)"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def wait_until_routed(gateway, path):
    deadline = time.time() + 120
    while time.time() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", gateway.events_port, timeout=5)
        connection.request("GET", path)
        if connection.getresponse().status == 200:
            return
        time.sleep(0.1)
    raise SystemExit(f"{path} never routed")


def hold_idle_connections(gateway):
    held = []
    request = b"GET /nothing HTTP/1.1\r\nHost: bench\r\n\r\n"
    for _ in range(IDLE_CONNECTIONS):
        s = socket.create_connection(("127.0.0.1", gateway.events_port))
        s.sendall(request)
        s.recv(65536)  # the 404: the connection has served a request and stays open
        held.append(s)
    return held


def main():
    os.makedirs(WORK, exist_ok=True)
    rows = []
    starts = []
    for attempt in range(5):
        gateway = Gateway(os.path.join(WORK, f"empty-{attempt}.eg"))
        starts.append(gateway.ready_ms)
        if attempt < 4:
            gateway.stop()
    rows.append(("ready, empty store (median of 5 starts)", f"{statistics.median(starts):.0f} ms"))
    time.sleep(1)
    rows.append(("RSS idle", gateway.memory()))
    # For bench/run.sh's verdicts on the targets.
    with open(os.path.join(WORK, "targets"), "w") as targets:
        targets.write(f"{statistics.median(starts):.0f} {gateway.rss_fields()['Rss']:.1f}\n")
    held = hold_idle_connections(gateway)
    time.sleep(0.5)
    rows.append((f"RSS with {IDLE_CONNECTIONS // 1000}k idle keep-alive connections", gateway.memory()))
    for s in held:
        s.close()
    gateway.stop()

    data_dir = os.path.join(WORK, "loaded.eg")
    subprocess.run([PRELOAD_STORE, data_dir, FUNCTION_URL, str(SUBSCRIPTIONS)], check=True)
    gateway = Gateway(data_dir)
    wait_until_routed(gateway, f"/r/{SUBSCRIPTIONS - 1}")
    rows.append((f"ready, {SUBSCRIPTIONS // 1000}k http subscriptions in the store", f"{gateway.ready_ms:.0f} ms"))
    time.sleep(1)
    rows.append((f"RSS with {SUBSCRIPTIONS // 1000}k http subscriptions", gateway.memory()))
    gateway.stop()

    print("| measure | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


main()
