#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""A small HTTP blob store for the remote-cache tests: GET, HEAD and PUT of files under a
directory, as nginx's WebDAV module or bazel-remote serve them (PUT creates the path).

  http_store.py DIR PORT_FILE [--delay SECONDS]

Listens on a free loopback port, written to PORT_FILE once it accepts connections.
--delay holds every answer for that long (a slow server).
"""
import http.server
import os
import sys
import time


class Store(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

    def log_message(self, *args):
        pass

    def path_on_disk(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        if ".." in rel.split("/"):
            return None
        return os.path.join(ROOT, rel)

    def answer(self, code, body=b""):
        time.sleep(DELAY)
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        p = self.path_on_disk()
        if p and os.path.isfile(p):
            with open(p, "rb") as f:
                self.answer(200, f.read())
        else:
            self.answer(404)

    def do_HEAD(self):
        p = self.path_on_disk()
        self.answer(200 if p and (os.path.isfile(p) or os.path.isdir(p)) else 404)

    def do_PUT(self):
        p = self.path_on_disk()
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if not p:
            return self.answer(403)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = p + ".part.%d" % os.getpid()
        with open(tmp, "wb") as f:
            f.write(body)
        os.replace(tmp, p)
        self.answer(201)


if __name__ == "__main__":
    ROOT, port_file = sys.argv[1], sys.argv[2]
    DELAY = float(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--delay" else 0.0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Store)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()
