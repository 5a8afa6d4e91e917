#!/usr/bin/env python
"""bench_net.py: requests per second and latency of HTTP servers (`make bench-net`).

Serves one small page (the home page of images/httpd.st, fetched from it) from
three servers on 127.0.0.1, one after the other, and loads each with ApacheBench
(`ab`, Debian's apache2-utils) in the same run:

  cogxen   images/httpd.st on mini.image, the VM under test (one Smalltalk process
           per connection)
  python   Python 3's http.server (ThreadingHTTPServer, a thread per connection)
           serving the page as a file
  nginx    Debian's nginx (one worker) serving the same file

  guest    the same images/httpd.st served by the Xen guest kernel (build/cogxen.xen)
           under QEMU (TCG, no KVM here) with virtio-net, through user networking's
           hostfwd (tools/guest_httpd.py); fewer requests (--guest-requests), as
           QEMU emulates the CPU, and 2 clients (--guest-concurrency): hostfwd
           listens with a backlog of 1

Each server gets a warm-up run, then the measured runs: with keep-alive (ab -k) and
without (a new connection per request). The table shows requests per second,
latency percentiles (ab's, in ms), failed requests, and each server's rate relative
to CogXen's (the guest's too, though it ran fewer requests through an emulator).

Runs with Python 2.7 (the project's .venv27) or Python 3.
"""

from __future__ import print_function

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_port(port, proc, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server ended with status %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except socket.error:
            time.sleep(0.1)
    raise RuntimeError("the server did not listen on port %d" % port)


def fetch(port, path="/"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode("ascii"))
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return body


class Server(object):
    def __init__(self, name, argv, port, cwd=None, ready=wait_for_port):
        self.name = name
        self.port = port
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=os.setsid)
        ready(port, self.proc)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.time() + 10
        while self.proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def start_cogxen(vm, image, port):
    argv = [vm, image] + [os.path.join(REPO, "images", name)
                          for name in ("CogXen.st", "Socket.st", "httpd.st")] + [str(port)]
    return Server("cogxen", argv, port)


def wait_for_page(port, proc, seconds=180):
    """QEMU's hostfwd takes connections before the guest listens: wait for a page."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("QEMU ended with status %s" % proc.returncode)
        try:
            if fetch(port):
                return
        except socket.error:
            pass
        time.sleep(0.5)
    raise RuntimeError("the guest did not serve on port %d within %d s" % (port, seconds))


def start_guest(kernel, image, port, folder):
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import guest_httpd
    path = os.path.join(folder, "httpd.cpio")
    with open(image, "rb") as f:
        data = guest_httpd.initrd(f.read())
    with open(path, "wb") as f:
        f.write(data)
    return Server("guest", guest_httpd.qemu_argv(kernel, path, port), port,
                  ready=wait_for_page)


PYTHON_SERVER = """
import http.server, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def end_headers(self):
        # ab -k asks HTTP/1.0 keep-alive, which needs the header in the answer
        if self.headers.get("Connection", "").lower() == "keep-alive":
            self.send_header("Connection", "keep-alive")
        super().end_headers()
folder, port = sys.argv[1], int(sys.argv[2])
http.server.ThreadingHTTPServer.request_queue_size = 128    # the default 5 drops SYNs
server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", port), lambda *a: Handler(*a, directory=folder))
server.serve_forever()
"""


def start_python(folder, port):
    return Server("python", ["python3", "-c", PYTHON_SERVER, folder, str(port)], port)


NGINX_CONF = """daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    default_type text/html;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%(port)d;
        root %(dir)s/www;
        index index.html;
    }
}
"""


def start_nginx(nginx, folder, port):
    with open(os.path.join(folder, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF % {"dir": folder, "port": port})
    return Server("nginx", [nginx, "-c", os.path.join(folder, "nginx.conf"),
                            "-p", folder], port)


class AbResult(object):
    def __init__(self, text):
        def number(pattern, default=None):
            m = re.search(pattern, text, re.M)
            return float(m.group(1)) if m else default
        self.rps = number(r"^Requests per second:\s+([\d.]+)")
        self.failed = int(number(r"^Failed requests:\s+(\d+)", -1))
        self.non2xx = int(number(r"^Non-2xx responses:\s+(\d+)", 0))
        self.complete = int(number(r"^Complete requests:\s+(\d+)", 0))
        self.percentiles = dict((p, number(r"^\s+%d%%\s+(\d+)" % p)) for p in (50, 90, 99, 100))
        self.text = text


def run_ab(ab, port, requests, concurrency, keepalive):
    argv = [ab, "-q", "-n", str(requests), "-c", str(concurrency), "-s", "30"]
    if keepalive:
        argv.append("-k")
    argv.append("http://127.0.0.1:%d/" % port)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.communicate()[0].decode("latin-1")
    if proc.returncode != 0:
        raise RuntimeError("%s failed (status %d):\n%s" % (" ".join(argv), proc.returncode,
                                                            out[-2000:]))
    return AbResult(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vm", default=os.path.join(REPO, "build", "cogxen"))
    parser.add_argument("--image", required=True, help="mini.image")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--ab", default="ab")
    parser.add_argument("--nginx", default="nginx")
    parser.add_argument("--xen", default=os.path.join(REPO, "build", "cogxen.xen"),
                        help="the guest kernel ('' or a missing file: no guest row)")
    parser.add_argument("--guest-requests", type=int, default=3000)
    # QEMU's hostfwd listens with a backlog of 1: the host drops the SYNs of more
    # simultaneous connects, and ab gives up on them.
    parser.add_argument("--guest-concurrency", type=int, default=2)
    args = parser.parse_args()
    guest = bool(args.xen) and os.path.isfile(args.xen) and \
        subprocess.call(["sh", "-c", "command -v qemu-system-x86_64 >/dev/null"]) == 0

    for tool, package in ((args.ab, "apache2-utils"), (args.nginx, "nginx-light")):
        if subprocess.call(["sh", "-c", 'command -v "$0" >/dev/null', tool]) != 0:
            sys.exit("bench_net.py: %s not found (Debian package %s; make setup installs it)"
                     % (tool, package))

    folder = tempfile.mkdtemp(prefix="cogxen-bench-net-")
    rows = []
    try:
        os.chmod(folder, 0o755)         # nginx's worker runs as nobody
        www = os.path.join(folder, "www")
        os.mkdir(www)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.mkdir(os.path.join(folder, sub))
        starters = [
            ("cogxen", lambda port: start_cogxen(args.vm, args.image, port)),
            ("python", lambda port: start_python(www, port)),
            ("nginx", lambda port: start_nginx(args.nginx, folder, port)),
        ]
        if guest:
            starters.append(("guest", lambda port: start_guest(args.xen, args.image, port,
                                                               folder)))
        page = None
        for name, start in starters:
            server = start(free_port())
            try:
                if page is None:
                    page = fetch(server.port)
                    with open(os.path.join(www, "index.html"), "wb") as f:
                        f.write(page)
                    os.chmod(os.path.join(www, "index.html"), 0o644)
                body = fetch(server.port)
                if body != page:
                    raise RuntimeError("%s serves another page (%d bytes, not %d)"
                                       % (name, len(body), len(page)))
                requests, concurrency = args.requests, args.concurrency
                if name == "guest":
                    requests, concurrency = args.guest_requests, args.guest_concurrency
                run_ab(args.ab, server.port, min(2000, requests), concurrency, True)
                for keepalive in (True, False):
                    result = run_ab(args.ab, server.port, requests, concurrency, keepalive)
                    rows.append((name, keepalive, result))
                    print("  %-7s %-13s %8.0f req/s" % (name, "keep-alive" if keepalive
                                                        else "new connection", result.rps or 0),
                          file=sys.stderr)
            finally:
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print("\nbench-net: %d requests of a %d-byte page, %d concurrent clients (ab), 127.0.0.1"
          % (args.requests, len(page or b""), args.concurrency))
    print("%-8s %-15s %10s %7s %7s %7s %7s %7s %9s" % (
        "server", "connections", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed",
        "vs cogxen"))
    base = dict(((n, k), r.rps) for n, k, r in rows if n == "cogxen")
    for name, keepalive, r in rows:
        cogxen = base.get(("cogxen", keepalive))
        ratio = r.rps / cogxen if r.rps and cogxen else 0.0
        cells = [("%d" % r.percentiles[p]) if r.percentiles[p] is not None else "-"
                 for p in (50, 90, 99, 100)]
        print("%-8s %-15s %10.0f %7s %7s %7s %7s %7d %8.2fx" % tuple(
            [name, "keep-alive" if keepalive else "new each", r.rps or 0] + cells +
            [r.failed + r.non2xx, ratio]))
    if guest:
        print("guest: %s under QEMU TCG (virtio-net, hostfwd), " % args.xen +
              "%d requests, %d concurrent clients" % (args.guest_requests,
                                                       args.guest_concurrency))
    else:
        print("guest: not measured (no %s, or no qemu-system-x86_64; make xen)" % args.xen)
    failed = sum(r.failed + r.non2xx for _, _, r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
