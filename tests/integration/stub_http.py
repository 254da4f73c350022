#!/usr/bin/env python3
"""A stand-in HTTP server for the integration tests (see lib_stub.sh): answers from a list of
rules, on ADDR (loopback or a test's own namespace) and a port the kernel picks.

usage: stub_http.py ADDR PORT_FILE RULES_JSON [LOG_FILE]     (ADDR IPv4, or IPv6 such as ::1)

RULES_JSON is a list of rules; the first that matches a request answers it:
  {"method": "GET", "path": "/shelly", "prefix": true,   (all optional: any method, any path)
   "status": 200, "body": "...", "headers": {"Name": "value"},
   "save": "FILE"}                                        (the request body is written to FILE)
A body that is not empty goes out as application/json unless headers say otherwise; a request
no rule matches gets 404. The port is written to PORT_FILE once the socket listens (renamed
into place, so a reader never sees half of it). With LOG_FILE, each request adds a line
"METHOD PATH auth=AUTHORIZATION" (auth=None without the header).
"""
import http.server
import json
import os
import socket
import sys

addr, port_file, rules = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
log = open(sys.argv[4], "a", buffering=1) if len(sys.argv) > 4 else None


def matches(rule, method, path):
    if rule.get("method", method) != method:
        return False
    want = rule.get("path")
    if want is None:
        return True
    return path.startswith(want) if rule.get("prefix") else path == want


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, method):
        length = int(self.headers.get("Content-Length", 0) or 0)
        body_in = self.rfile.read(length) if length > 0 else b""
        if log is not None:
            log.write("%s %s auth=%s\n" % (method, self.path, self.headers.get("Authorization")))
        rule = next((r for r in rules if matches(r, method, self.path)), None)
        if rule is None:
            rule = {"status": 404}
        if "save" in rule:
            with open(rule["save"], "wb") as f:
                f.write(body_in)
        out = rule.get("body", "").encode()
        headers = dict(rule.get("headers", {}))
        if out and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json"
        self.send_response(rule.get("status", 200))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        self.answer("GET")

    def do_POST(self):
        self.answer("POST")


class Server(http.server.HTTPServer):
    # ADDR may be an IPv6 loopback address ("::1").
    address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET


server = Server((addr, 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
