#!/usr/bin/env python3
"""What each library costs a process in resident memory:

    smaps.py PID

reads /proc/PID/smaps and prints one line: per file (the binary, libc, the
loader) its resident KiB split into code (r-x), read-only data (r--) and
written data (rw-), then the anonymous pages (heap, stacks, the rest), e.g.
"storj-registryd 812 KiB (code 604, read-only 96, data 112); libc.so.6 ...".
"""
import os
import sys
from collections import defaultdict

files = defaultdict(lambda: defaultdict(int))
anon = 0
name = None
kind = None
with open("/proc/%s/smaps" % sys.argv[1]) as f:
    for line in f:
        head = line.split()
        if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            path = head[5] if len(head) > 5 else ""
            perms = head[1]
            if path.startswith("/"):
                name = os.path.basename(path)
                kind = "code" if "x" in perms else ("data" if "w" in perms else "read-only")
            else:
                name, kind = None, None
        elif head[0] == "Rss:":
            kb = int(head[1])
            if name:
                files[name][kind] += kb
        elif head[0] == "Anonymous:":
            # written pages of file mappings (relocations, .data) are
            # anonymous too: counted with their file above, not here
            if not name:
                anon += int(head[1])
out = []
for n, k in sorted(files.items(), key=lambda x: -sum(x[1].values())):
    parts = ", ".join("%s %d" % (p, k[p]) for p in ("code", "read-only", "data") if k[p])
    out.append("%s %d KiB (%s)" % (n, sum(k.values()), parts or "none resident"))
out.append("anonymous %d KiB" % anon)
print("; ".join(out))
