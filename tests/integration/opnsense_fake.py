#!/usr/bin/env python3
"""A fake OPNsense API for tests/integration/opnsense_*.sh, written from the documented API
(docs/development/api and the core controllers as summarised in the project's notes), not from
a real firewall's replies. It listens on one loopback address over TLS and serves:

  kea:      /api/kea/dhcpv4/{get,searchSubnet,searchReservation,addReservation,
            setReservation/<uuid>,delReservation/<uuid>}, /api/kea/service/{reconfigure,status}
  dnsmasq:  /api/dnsmasq/settings/{get,searchHost,addHost,setHost/<uuid>,delHost/<uuid>,
            searchRange}, /api/dnsmasq/service/{reconfigure,status}
  isc:      /api/dhcpv4/service/status
  alias:    /api/firewall/alias/{getAliasUUID/<name>,getItem/<uuid>,addItem,setItem/<uuid>,
            reconfigure}

with HTTP basic auth (key, secret), 401/404/400 bodies as documented, validations as
{"result":"failed","validations":{...}}, search rows in the 25.1 shape (display values) or the
25.7 shape (raw values plus "%field" labels), and getItem option maps. Modules not installed
answer 404. An alias setItem whose posted name differs from the stored one (or is missing) is
recorded as OPNsense's refactor (every reference renamed) in counts "refactors" [[old, new]].
Control (no auth): GET /__fake/counts (calls, writes, reconfigures per service, alias_sets),
--forbid PREFIX answers 403 (an API user without that privilege) for paths under PREFIX,
GET /__fake/state (everything held), GET /__fake/heal (reconfigures work again).

Usage: opnsense_fake.py --addr A --cert C --key K --state STATE.json --port-file F [options]
"""
import argparse
import base64
import ipaddress
import json
import os
import re
import ssl
import sys
import threading
import time
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOSTNAME_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")

LOCK = threading.Lock()


class Fake:
    def __init__(self, args, state):
        self.a = args
        self.modules = set(args.modules.split(",")) if args.modules else set()
        self.enabled = args.enabled
        self.subnets = state.get("subnets", [])
        self.reservations = state.get("reservations", [])
        self.hosts = state.get("hosts", [])
        self.ranges = state.get("ranges", [])
        self.aliases = state.get("aliases", [])
        self.counts = {"calls": 0, "writes": 0, "reconfigure": {}, "unauthorized": 0,
                       "paths": [], "alias_sets": 0, "refactors": []}

    # --- shapes ---------------------------------------------------------------------------
    def subnet_by_uuid(self, u):
        for s in self.subnets:
            if s["uuid"] == u:
                return s
        return None

    def kea_row(self, r):
        row = dict(r)
        s = self.subnet_by_uuid(r.get("subnet", ""))
        if self.a.shape == "25.1":
            row["subnet"] = s["subnet"] if s else ""
        else:
            row["%subnet"] = s["subnet"] if s else ""
            row["option_data.routers"] = ""
        return row

    def host_row(self, h):
        row = dict(h)
        if self.a.shape == "25.1":
            row["hwaddr"] = ", ".join(x for x in h.get("hwaddr", "").split(",") if x)
        else:
            row["%hwaddr"] = ", ".join(x for x in h.get("hwaddr", "").split(",") if x)
        return row

    # A searchRange row: every field of the dhcp_ranges model (Dnsmasq.xml, 25.1+), the
    # interface as its description (25.1) or raw with a "%interface" label (25.7).
    RANGE_FIELDS = ("interface", "set_tag", "start_addr", "end_addr", "subnet_mask",
                    "constructor", "mode", "prefix_len", "lease_time", "domain_type", "domain",
                    "nosync", "ra_mode", "ra_priority", "ra_mtu", "ra_interval",
                    "ra_router_lifetime", "description")

    def range_row(self, r):
        row = {"uuid": r["uuid"]}
        row.update({k: r.get(k, "range" if k == "domain_type" else "") for k in self.RANGE_FIELDS})
        if self.a.shape == "25.1":
            row["interface"] = row["interface"].upper()
        else:
            row["%interface"] = row["interface"].upper()
        return row

    # --- validation (Kea: KeaDhcpv4 model; dnsmasq: Dnsmasq::performValidation) ---------------
    def kea_validate(self, r, self_uuid):
        v = {}
        s = self.subnet_by_uuid(r.get("subnet", ""))
        if s is None:
            v["reservation.subnet"] = "Related subnet not found."
        ip = r.get("ip_address", "")
        try:
            addr = ipaddress.ip_address(ip)
            if s is not None and addr not in ipaddress.ip_network(s["subnet"]):
                v["reservation.ip_address"] = "Address not in specified subnet"
        except ValueError:
            v["reservation.ip_address"] = "Please specify a valid IP address."
        if not MAC_RE.match(r.get("hw_address", "")):
            v["reservation.hw_address"] = "Invalid MAC address."
        if r.get("hostname") and not HOSTNAME_RE.match(r["hostname"]):
            v["reservation.hostname"] = "A valid hostname is required."
        for o in self.reservations:
            if o["uuid"] == self_uuid:
                continue
            if o.get("ip_address") == ip:
                v["reservation.ip_address"] = "Duplicate entry exists."
            if (o.get("subnet") == r.get("subnet")
                    and o.get("hw_address", "").lower() == r.get("hw_address", "").lower()):
                v["reservation.hw_address"] = ["Duplicate entry exists."]
        if ip and ip in self.a.fail_ip:
            v.setdefault("reservation.ip_address", "Refused by this test.")
        return v

    def host_validate(self, h, self_uuid):
        v = {}
        if "*" in h.get("host", ""):
            v["host.host"] = "Wildcards are not allowed."
        if h.get("host") and not HOSTNAME_RE.match(h["host"]):
            v["host.host"] = "A valid hostname is required."
        ip = h.get("ip", "")
        if h.get("hwaddr"):
            for o in self.hosts:
                if o["uuid"] != self_uuid and o.get("hwaddr") and ip and o.get("ip") == ip:
                    v["host.ip"] = "'%s' is already used in another DHCP host entry." % ip
        if ip and ip in self.a.fail_ip:
            v.setdefault("host.ip", "Refused by this test.")
        return v

    # --- alias --------------------------------------------------------------------------------
    def alias_item(self, a):
        """getItem as AliasController answers: option maps for type, proto, categories and
        content (which offers every other alias, unselected), plain strings for the rest."""
        def omap(keys, selected):
            return {k: {"value": k, "selected": 1 if k in selected else 0} for k in keys}
        types = ["host", "network", "port", "url"]
        content = {x: {"value": x, "selected": 1} for x in a["content"].split("\n") if x}
        for o in self.aliases:
            if o["name"] != a["name"]:
                content.setdefault(o["name"], {"value": o["name"], "selected": 0})
        cats = [c for c in a.get("categories", "").split(",") if c]
        return {"alias": {
            "enabled": a.get("enabled", "1"), "name": a["name"],
            "type": {t: {"value": t.title() + "(s)", "selected": 1 if t == a["type"] else 0}
                     for t in types},
            "proto": omap(["IPv4", "IPv6"], a.get("proto", "").split(",")),
            "categories": omap(sorted(set(cats) | {"c0000000-0000-4000-8000-000000000000"}),
                               cats),
            "counters": a.get("counters", "0"), "updatefreq": a.get("updatefreq", ""),
            "content": content, "description": a.get("description", ""),
        }}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def authorised(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
        except Exception:
            return False
        return user == self.fake.a.api_key and pw == self.fake.a.api_secret

    def do_GET(self):
        self.handle_req("GET", None)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        raw = self.rfile.read(n) if n else b""
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            if not raw:
                return self.reply(400, {"status": 400, "message": "Invalid JSON syntax"})
            try:
                body = json.loads(raw)
            except ValueError:
                return self.reply(400, {"status": 400, "message": "Invalid JSON syntax"})
        else:
            body = {}
        self.handle_req("POST", body)

    def handle_req(self, method, body):
        f = self.fake
        path = self.path.split("?")[0]
        if path.startswith("/__fake/"):
            with LOCK:
                if path == "/__fake/counts":
                    return self.reply(200, f.counts)
                if path == "/__fake/heal":
                    f.a.reconf_fail = []
                    return self.reply(200, {"status": "ok"})
                if path == "/__fake/state":
                    return self.reply(200, {"reservations": f.reservations, "hosts": f.hosts,
                                            "ranges": f.ranges,
                                            "aliases": f.aliases, "subnets": f.subnets})
            return self.reply(404, {"errorMessage": "Endpoint not found"})
        if not self.authorised():
            with LOCK:
                f.counts["unauthorized"] += 1
            return self.reply(401, {"status": 401, "message": "Authentication Failed"})
        with LOCK:
            f.counts["calls"] += 1
            f.counts["paths"].append(method + " " + path)
        if any(p and path.startswith(p) for p in f.a.forbid):  # the user lacks that ACL
            return self.reply(403, {"status": 403, "message": "Forbidden"})
        parts = path.strip("/").split("/")
        if len(parts) < 4 or parts[0] != "api":
            return self.reply(404, {"errorMessage": "Endpoint not found"})
        mod = {"kea": "kea", "dnsmasq": "dnsmasq", "dhcpv4": "isc", "firewall": "firewall"}.get(
            parts[1])
        if mod is None or (mod != "firewall" and mod not in f.modules):
            return self.reply(404, {"errorMessage": "Endpoint not found"})
        ctrl, cmd, arg = parts[2], parts[3], (parts[4] if len(parts) > 4 else None)
        cmd = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), cmd)  # snake_case works too
        write = not (cmd == "get" or cmd.startswith("get") or cmd.startswith("search")
                     or cmd == "status")
        if write and method != "POST":
            return self.reply(200, {"result": "failed"})
        if write and any(s and s in path + json.dumps(body) for s in f.a.slow):
            time.sleep(f.a.slow_seconds)
        if write and any(s and s in json.dumps(body) for s in f.a.write_500):
            return self.reply(500, {"errorMessage": "Unable to save &quot;x&quot; &lt;lock&gt;",
                                    "errorTitle": "Error"})
        with LOCK:
            return self.route(mod, ctrl, cmd, arg, body or {})

    def route(self, mod, ctrl, cmd, arg, body):
        f = self.fake
        if ctrl == "service":
            if cmd == "reconfigure":
                f.counts["reconfigure"][mod] = f.counts["reconfigure"].get(mod, 0) + 1
                if mod in f.a.reconf_fail:
                    return self.reply(500, {"errorMessage": "Template generation failed &amp; "
                                            "&lt;stopped&gt;", "errorTitle": "Error"})
                return self.reply(200, {"status": "ok"})
            if cmd == "status":
                running = mod == f.enabled
                return self.reply(200, {"status": f.a.service_status if running else "disabled",
                                        "widget": {}})
        if mod == "kea" and ctrl == "dhcpv4":
            return self.kea(cmd, arg, body)
        if mod == "dnsmasq" and ctrl == "settings":
            return self.dnsmasq(cmd, arg, body)
        if mod == "firewall" and ctrl == "alias":
            return self.alias(cmd, arg, body)
        return self.reply(404, {"errorMessage": "Endpoint not found"})

    def search(self, rows):
        return self.reply(200, {"rows": rows, "rowCount": len(rows), "total": len(rows),
                                "current": 1})

    def crud(self, items, wrapper, validate, cmd, noun, arg, body):
        f = self.fake
        if cmd == "search" + noun + "s" or cmd == "search" + noun:
            return None
        if cmd == "get" + noun:
            for it in items:
                if it["uuid"] == arg:
                    return self.reply(200, {wrapper: it})
            return self.reply(200, [])
        if cmd in ("add" + noun, "set" + noun):
            new = body.get(wrapper)
            if not isinstance(new, dict):
                return self.reply(200, {"result": "failed"})
            old = next((it for it in items if it["uuid"] == arg), None) if arg else None
            rec = dict(old) if old else {}
            rec.update({k: str(v) for k, v in new.items()})
            rec["uuid"] = arg if arg else str(uuidlib.uuid4())
            v = validate(rec, rec["uuid"])
            if v:
                return self.reply(200, {"result": "failed", "validations": v})
            f.counts["writes"] += 1
            if old:
                items[items.index(old)] = rec
            else:
                items.append(rec)
            out = {"result": "saved"}
            if cmd.startswith("add"):
                out["uuid"] = rec["uuid"]
            return self.reply(200, out)
        if cmd == "del" + noun:
            for it in items:
                if it["uuid"] == arg:
                    items.remove(it)
                    f.counts["writes"] += 1
                    return self.reply(200, {"result": "deleted"})
            return self.reply(200, {"result": "not found"})
        return self.reply(404, {"errorMessage": "Endpoint not found"})

    def kea(self, cmd, arg, body):
        f = self.fake
        if cmd == "get":
            return self.reply(200, {"dhcpv4": {"general": {
                "enabled": "1" if f.enabled == "kea" else "0", "interfaces": {}}}})
        if cmd == "searchSubnet":
            return self.search([dict(s) for s in f.subnets])
        if cmd == "searchReservation":
            return self.search([f.kea_row(r) for r in f.reservations])
        r = self.crud(f.reservations, "reservation", f.kea_validate, cmd, "Reservation", arg,
                      body)
        return r

    def dnsmasq(self, cmd, arg, body):
        f = self.fake
        if cmd == "get":
            return self.reply(200, {"dnsmasq": {"enable": "1" if f.enabled == "dnsmasq" else "0",
                                                "hosts": {}}})
        if cmd == "searchHost":
            return self.search([f.host_row(h) for h in f.hosts])
        if cmd == "searchRange" and not f.a.no_ranges:  # before 25.1 there is none
            return self.search([f.range_row(r) for r in f.ranges])
        return self.crud(f.hosts, "host", f.host_validate, cmd, "Host", arg, body)

    def alias(self, cmd, arg, body):
        f = self.fake
        if cmd == "getAliasUUID":
            for a in f.aliases:
                if a["name"] == arg:
                    return self.reply(200, {"uuid": a["uuid"]})
            return self.reply(200, [])
        if cmd == "getItem":
            if f.a.get_empty:  # as for a UUID deleted between the look-up and the read
                return self.reply(200, [])
            for a in f.aliases:
                if a["uuid"] == arg:
                    return self.reply(200, f.alias_item(a))
            return self.reply(200, [])
        if cmd == "reconfigure":
            f.counts["reconfigure"]["alias"] = f.counts["reconfigure"].get("alias", 0) + 1
            return self.reply(200, {"status": "ok"})

        if cmd == "setItem":
            # setItemAction: $new_name = getPost("alias")['name']; a name unlike the stored
            # one (a missing name is null) makes Alias::refactor() rewrite every reference
            # to the alias (rules, NAT, nested aliases) to the new name.
            new = body.get("alias") if isinstance(body.get("alias"), dict) else {}
            old = next((a for a in f.aliases if a["uuid"] == arg), None)
            f.counts["alias_sets"] += 1
            if old and new.get("name") != old["name"]:
                f.counts["refactors"].append([old["name"], new.get("name")])

        def validate(a, u):
            v = {}
            if a.get("type") not in ("host", "network", "port", "url"):
                v["alias.type"] = "Option not in list."
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$", a.get("name", "")):
                v["alias.name"] = "The name must be less than 32 characters long..."
            for x in a.get("content", "").split("\n"):
                if x and "," in x:
                    v["alias.content"] = "Entry \"%s\" is not a valid hostname or IP address." % x
            return v
        return self.crud(f.aliases, "alias", validate, cmd.replace("Item", "Alias"), "Alias",
                         arg, body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--api-key", default="K3y")
    p.add_argument("--api-secret", default="S3cret")
    p.add_argument("--shape", choices=["25.1", "25.7"], default="25.7")
    p.add_argument("--modules", default="kea,dnsmasq")
    p.add_argument("--enabled", default="kea")
    p.add_argument("--fail-ip", action="append", default=[])
    p.add_argument("--slow", action="append", default=[])
    p.add_argument("--slow-seconds", type=float, default=3.0)
    p.add_argument("--reconf-fail", action="append", default=[])
    p.add_argument("--service-status", default="running")
    p.add_argument("--get-empty", action="store_true")
    p.add_argument("--no-ranges", action="store_true")
    p.add_argument("--write-500", action="append", default=[])
    p.add_argument("--forbid", action="append", default=[])
    a = p.parse_args()
    with open(a.state) as fp:
        state = json.load(fp)
    Handler.fake = Fake(a, state)
    srv = ThreadingHTTPServer((a.addr, 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(a.port_file + ".tmp", "w") as fp:
        fp.write(str(srv.server_address[1]))
    os.rename(a.port_file + ".tmp", a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
