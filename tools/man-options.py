#!/usr/bin/env python3
"""Rewrites the option list of shelly-tui.1 from `shelly-tui --list-options` (the option table
is the one source; tests/integration/docs.sh checks the two agree). Usage:
    python3 tools/man-options.py build/shelly-tui shelly-tui.1"""
import re
import subprocess
import sys

binary, page = sys.argv[1], sys.argv[2]
out = subprocess.run([binary, "--list-options"], capture_output=True, text=True, check=True).stdout
lines = []
for line in out.splitlines():
    m = re.match(r"(\S+)\s+(\S+)\s+(\S+)\s+(.*)$", line.rstrip())
    name, typ, default, text = m.groups()
    if default == '""':
        default = "empty"
    lines += [".It Cm %s Ar %s" % (name, typ), text.rstrip(".") + ".", "Default: %s." % default]
s = open(page).read()
head = ".Pq Nm Fl \\-list-options :\n.Bl -tag -width Ds\n"
start = s.index(head) + len(head)
end = s.index(".El\n.Sh ENVIRONMENT")
open(page, "w").write(s[:start] + "\n".join(lines) + "\n" + s[end:])
