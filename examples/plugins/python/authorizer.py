#!/usr/bin/python3
"""Event gateway plugin: refuses received events whose request lacks the right bearer token.

SYNC on gateway.event.received: the gateway waits for the answer and, on a veto, answers the
caller 401 without routing the event. Accepted: `Authorization: Bearer <AUTHORIZER_TOKEN>`.

    AUTHORIZER_TOKEN=s3cret event-gateway -dev -plugin examples/plugins/python/authorizer.py
"""

import hmac

import plugin_server


def header(headers, name):
    """A request header's value. Names are case-insensitive (RFC 9110): do not rely on canonical names."""
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def make_react(token):
    expected = token.encode()

    def react(event_type, event, event_json):
        data = event.get("data") if isinstance(event, dict) else None
        headers = data.get("headers") if isinstance(data, dict) else None
        value = header(headers, "Authorization") if isinstance(headers, dict) else None
        if value is None:
            return refuse("missing Authorization header: send 'Authorization: Bearer <token>'")
        scheme, _, presented = value.strip().partition(" ")
        presented = presented.strip()
        if scheme.lower() != "bearer" or not presented:
            return refuse("Authorization header is not a bearer token: send 'Authorization: Bearer <token>'")
        # Constant time, so response timing does not reveal how much of a guess was right.
        if not hmac.compare_digest(presented.encode(), expected):
            return refuse("invalid bearer token")
        return plugin_server.ReactResponse()

    return react


def refuse(message):
    return plugin_server.ReactResponse(error=message, status_code=401)


def main():
    plugin_server.check_started_by_gateway()
    token = plugin_server.require_env("AUTHORIZER_TOKEN", "the bearer token callers must present")
    plugin_server.serve([("gateway.event.received", plugin_server.SYNC)], make_react(token))


if __name__ == "__main__":
    main()
