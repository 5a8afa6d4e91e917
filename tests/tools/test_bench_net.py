"""tools/bench_net.py (make bench-net): what it reads from ab's report."""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import bench_net  # noqa: E402  (tools/bench_net.py)

AB_REPORT = """Server Software:        CogXen
Document Length:        166 bytes
Concurrency Level:      50
Complete requests:      20000
Failed requests:        3
Non-2xx responses:      2
Keep-Alive requests:    20000
Requests per second:    21636.27 [#/sec] (mean)

Percentage of the requests served within a certain time (ms)
  50%      0
  66%      1
  90%      4
  99%     14
 100%     84 (longest request)
"""


def test_the_report_gives_rate_failures_and_percentiles():
    r = bench_net.AbResult(AB_REPORT)
    assert r.rps == 21636.27
    assert (r.complete, r.failed, r.non2xx) == (20000, 3, 2)
    assert r.percentiles == {50: 0, 90: 4, 99: 14, 100: 84}


def test_a_report_without_percentiles_leaves_them_unknown():
    r = bench_net.AbResult("Requests per second:    10 [#/sec] (mean)\n")
    assert r.rps == 10 and r.failed == -1 and r.percentiles[99] is None


def test_the_nginx_configuration_serves_only_loopback():
    conf = bench_net.NGINX_CONF % {"dir": "/tmp/x", "port": 8123}
    assert "listen 127.0.0.1:8123;" in conf and "daemon off;" in conf


def test_the_guest_is_reached_only_through_loopback():
    import guest_httpd
    argv = guest_httpd.qemu_argv("k.xen", "i.cpio", 18123)
    netdev = argv[argv.index("-netdev") + 1]
    assert netdev == "user,id=n0,hostfwd=tcp:127.0.0.1:18123-:%d" % guest_httpd.GUEST_PORT
    assert "virtio-net-device,netdev=n0" in argv and "tcg" in argv
    assert argv[argv.index("-append") + 1].endswith("/script.st %d" % guest_httpd.GUEST_PORT)
