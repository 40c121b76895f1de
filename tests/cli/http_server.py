#!/usr/bin/env python3
"""A small HTTP server on the loopback interface for tests/cli/test_get.sh.

Serves the files under --root with one behaviour per first path component:

  /normal/REL    the file, honouring "Range: bytes=N-" (206; 416 with
                 "Content-Range: bytes */SIZE" past the end)
  /norange/REL   the whole file with 200, whatever Range asks
  /404/REL       404 Not Found
  /flaky/REL     503 the first time REL is asked, then like /normal/
  /stall/REL     the headers and the first STALL_BYTES, then silence
  /cut/REL       announces the full length, closes after half of it
  /cutonce/REL   like /cut/ the first time REL is asked, then like /normal/

It binds port 0 (the system picks a free one) and writes the port to
--port-file once listening. Each request is appended to --log as one line:
"PATH RANGE" (RANGE is "-" when absent). Standard library only.
"""
import argparse
import http.server
import os
import sys
import threading
import time

STALL_BYTES = 4096
STALL_SECONDS = 300

seen = set()
seen_lock = threading.Lock()


def first_time(key):
    """True the first time key is seen by this server."""
    with seen_lock:
        if key in seen:
            return False
        seen.add(key)
        return True


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so closing early cuts a transfer.
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        with open(self.server.log_path, "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Range", "-")))

    def send_plain(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.record()
        parts = self.path.lstrip("/").split("/", 1)
        if len(parts) != 2:
            return self.send_plain(404, "no mode\n")
        mode, rel = parts
        path = os.path.join(self.server.root, rel)
        if mode == "404" or ".." in rel.split("/") or not os.path.isfile(path):
            return self.send_plain(404, "not found\n")
        if mode == "flaky" and first_time(self.path):
            return self.send_plain(503, "try later\n")
        if mode == "cutonce":
            mode = "cut" if first_time(self.path) else "normal"
        with open(path, "rb") as f:
            data = f.read()
        self.serve(mode, data)

    def serve(self, mode, data):
        size = len(data)
        start = 0
        rng = self.headers.get("Range")
        if rng and mode != "norange":
            # Only the form clients use to resume: bytes=N- (or N-M).
            spec = rng.replace("bytes=", "", 1).split("-", 1)
            start = int(spec[0])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            end = int(spec[1]) + 1 if len(spec) > 1 and spec[1] else size
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
            body = data[start:end]
        else:
            self.send_response(200)
            body = data
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

        if mode == "stall":
            self.wfile.write(body[:STALL_BYTES])
            self.wfile.flush()
            time.sleep(STALL_SECONDS)
        elif mode == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, help="folder of the served files")
    ap.add_argument("--port-file", required=True, help="written with the port")
    ap.add_argument("--log", required=True, help="one line per request")
    args = ap.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.root = args.root
    server.log_path = args.log
    open(args.log, "w").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
