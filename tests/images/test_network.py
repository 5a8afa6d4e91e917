"""The network as images see it, hosted: the Smalltalk socket tests
(images/tests/NetworkTests.st on images/Socket.st) and the HTTP server
(images/httpd.st) reached with curl, raw sockets and a bounded load run.
Only 127.0.0.1 is used.

These run against the translated VM (make test-translated, COGXEN_VM): untranslated
they take six minutes, and tests/spyvm/plugins/test_socketplugin.py already runs the
plugin's code untranslated."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import httplib
import pytest

from imagerun import REPO, Run, find_image, run_vm, translated_vm


pytestmark = pytest.mark.skipif(
    not translated_vm(), reason="image-level network tests run against the translated VM "
                                "(make test-translated)")


def script(*names):
    return [os.path.join(REPO, "images", name) for name in names]


def test_the_image_socket_tests_pass():
    image = find_image("mini.image")
    result = run_vm([image] + script("CogXen.st", "TestRunner.st", "Socket.st",
                                     "tests/NetworkTests.st", "run-tests.st"), timeout=600)
    assert result.status == 0, result.describe()
    assert re.search(r"^(\d+) tests, \1 passed, 0 failed$", result.stdout, re.M), \
        result.describe()
    assert "PASS CogXenSocketTest>>testManyConcurrentProcesses" in result.stdout


class HttpPeer(object):
    """What the tests ask of a running images/httpd.st reached on 127.0.0.1:port
    (hosted here; in the guest, tests/xenport/test_network_qemu.py)."""

    port = None
    load_total = 5000      # requests of the bounded load run

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def curl(self, *args):
        out = subprocess.check_output(["curl", "-s", "--max-time", "60"] + list(args))
        return out

    def raw(self, data, read=True):
        """Send data on a new connection; answer what came back until the server
        closed it (or 30 s passed)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        try:
            s.sendall(data)
            if not read:
                return ""
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return "".join(chunks)
        finally:
            s.close()

    def stats(self):
        text = self.curl(self.url("/stats"))
        return dict((k, int(v)) for k, v in re.findall(r"(\w+) (\d+)", text))


class Server(HttpPeer):
    """images/httpd.st on a free port of 127.0.0.1."""

    def __init__(self):
        image = find_image("mini.image")
        self.run = Run([image] + script("CogXen.st", "Socket.st", "httpd.st") + ["0"],
                       timeout=1800)
        if not self.run.wait_for_stdout("\n", timeout=300):
            self.run.kill()
            pytest.fail("the server did not start:\n" + self.run.finish().describe())
        found = re.search(r"httpd: serving on port (\d+)\n", self.run.stdout_so_far())
        assert found, self.run.finish().describe()
        self.port = int(found.group(1))

    def stop(self):
        os.killpg(self.run.process.pid, signal.SIGTERM)
        return self.run.finish()


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    if srv.run.result is None:
        srv.run.kill()
        srv.run.finish()


def status_line(response):
    return response.split("\r\n", 1)[0]


def test_static_and_computed_pages(server):
    page = server.curl("-i", server.url("/"))
    assert status_line(page) == "HTTP/1.1 200 OK"
    assert "Content-Type: text/html" in page and "<h1>Hello from CogXen</h1>" in page
    assert server.curl(server.url("/fib/25")) == "75025\n"
    assert status_line(server.curl("-i", server.url("/nope"))) == "HTTP/1.1 404 Not Found"
    assert status_line(server.curl("-i", server.url("/fib/99"))) == "HTTP/1.1 404 Not Found"
    head = server.curl("-I", server.url("/"))
    assert status_line(head) == "HTTP/1.1 200 OK" and "<h1>" not in head
    post = server.curl("-i", "-d", "x=1", server.url("/"))
    assert status_line(post) == "HTTP/1.1 405 Method Not Allowed"


def test_keep_alive_serves_several_requests_on_one_connection(server):
    out = server.curl("-w", "[%{num_connects}]", server.url("/fib/10"), server.url("/fib/11"),
                      server.url("/fib/12"))
    # one connection made for the first request, reused by the other two
    assert out == "55\n[1]89\n[0]144\n[0]"
    pipelined = server.raw("GET /fib/5 HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /fib/6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert pipelined.count("HTTP/1.1 200 OK") == 2 and pipelined.endswith("8\n")
    # HTTP/1.0 closes unless asked not to
    assert server.raw("GET /fib/7 HTTP/1.0\r\n\r\n").endswith("13\n")


@pytest.mark.parametrize("garbage", [
    "garbage\r\n\r\n",
    "GET / HTTP/9.9\r\n\r\n",
    "GET nopath HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    "\x00\xff\x10binary\r\n\r\n",
])
def test_malformed_requests_get_400_and_the_server_goes_on(server, garbage):
    assert status_line(server.raw(garbage)) == "HTTP/1.1 400 Bad Request"
    assert server.curl(server.url("/fib/3")) == "2\n"


def test_an_oversized_request_head_gets_431(server):
    big = "GET / HTTP/1.1\r\n" + "X-Big: " + "a" * 20000 + "\r\n\r\n"
    response = server.raw(big)
    assert status_line(response) == "HTTP/1.1 431 Request Header Fields Too Large"


def test_a_stalled_connection_does_not_hold_others_up(server):
    stalled = socket.create_connection(("127.0.0.1", server.port))
    try:
        stalled.sendall("GET / HTTP/1.1\r\nHost: slow")      # and nothing more
        start = time.time()
        assert server.curl(server.url("/fib/20")) == "6765\n"
        assert time.time() - start < 8
    finally:
        stalled.close()


def test_a_thousand_dropped_connections_leave_nothing_open(server):
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", server.port))
        if i % 2:
            s.sendall("GET / HT")
        s.close()
    # a peer that resets in the middle of a response
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall("GET /fib/18 HTTP/1.1\r\n\r\n")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, "\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    deadline = time.time() + 60
    while True:
        stats = server.stats()
        if stats["open"] == 1 or time.time() > deadline:   # 1: the /stats request itself
            break
        time.sleep(0.5)
    assert stats["open"] == 1, stats
    assert stats["connections"] >= 1020


def test_a_bounded_load_run_has_no_errors(server):
    """50 clients at once, keep-alive, each a share of the requests (5,000); every
    response must be right."""
    total = server.load_total
    clients = 50
    errors = []
    done = [0]
    lock = threading.Lock()
    connect_lock = threading.Lock()

    def client(n):
        conn = httplib.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            # One connect at a time: QEMU's hostfwd (the guest's run) listens with a
            # backlog of 1, and the host drops SYNs beyond it (retried after 1, 3,
            # 7, 15 s); the requests themselves all run at once.
            with connect_lock:
                conn.connect()
            for k in range(n):
                path = "/" if k % 2 else "/fib/%d" % (k % 15)
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or not body:
                    with lock:
                        errors.append((path, response.status))
                with lock:
                    done[0] += 1
        except Exception as e:
            with lock:
                errors.append(repr(e))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(total // clients,))
               for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert errors == [] and done[0] == total, (errors[:5], done[0])


def test_sigterm_stops_the_server_cleanly(server):
    """Last: the shutdown list runs and the VM exits with status 0."""
    assert server.curl(server.url("/fib/4")) == "3\n"
    result = server.stop()
    assert result.status == 0, result.describe()
    assert "did not finish in time" not in result.stderr, result.describe()
