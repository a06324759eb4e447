#!/usr/bin/env python3
"""The function of the README's quick start, on Python's standard library only.

The gateway calls a function with POST and the event as JSON; for an http event the function
answers {"statusCode", "headers", "body"} (a string), which the gateway sends back as the response
(docs/events.md). Run: python3 examples/hello/hello.py [port]  (default 8080, on 127.0.0.1)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or "{}")
        request = event.get("data") or {}
        greeting = {"message": "Hello, world!", "method": request.get("method"), "path": request.get("path")}
        answer = json.dumps({"statusCode": 200, "headers": {"Content-Type": "application/json"},
                             "body": json.dumps(greeting)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
print(f"hello: a function on http://127.0.0.1:{port}/", flush=True)
ThreadingHTTPServer(("127.0.0.1", port), Hello).serve_forever()
