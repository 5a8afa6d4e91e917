"""The network in the guest: build/cogxen.xen under QEMU with a virtio-net device
on QEMU's user networking, lwIP configured by DHCP at boot, images/httpd.st
serving, reached from the host through a hostfwd on 127.0.0.1.

The HTTP tests are the hosted ones (tests/images/test_network.py), run against
the guest: same requests, same expectations.  Only 127.0.0.1 and QEMU's own
user-network addresses (10.0.2.0/24) are used.
"""

import imp
import io
import os
import re
import sys
import time

import pytest

from qemurun import REPO, Boot, command_line, mini_image, require_qemu

# test_network imports its helpers as top-level modules of tests/images.
sys.path.insert(0, os.path.join(REPO, "tests", "images"))
hosted = imp.load_source("cogxen_test_network_for_qemu",
                         os.path.join(REPO, "tests", "images", "test_network.py"))
guest_httpd = imp.load_source("cogxen_guest_httpd", os.path.join(REPO, "tools", "guest_httpd.py"))
free_port = imp.load_source("cogxen_bench_net", os.path.join(REPO, "tools", "bench_net.py")).free_port

GUEST_PORT = guest_httpd.GUEST_PORT
NET_LINE = re.compile(r"xenport: net: virtio-net ([0-9a-f:]{17}), address (\S+) netmask (\S+) "
                      r"gateway (\S+) \((dhcp|static)\)")


def user_net(hostfwd_port=None):
    netdev = "user,id=n0"
    if hostfwd_port:
        netdev += ",hostfwd=tcp:127.0.0.1:%d-:%d" % (hostfwd_port, GUEST_PORT)
    return ["-netdev", netdev, "-device", "virtio-net-device,netdev=n0"]


def read_growing(f):
    """What QEMU wrote so far to the open file f, read through a second open file
    (QEMU shares f's offset)."""
    with io.open("/proc/self/fd/%d" % f.fileno(), "rb") as again:
        return again.read().decode("latin-1")


class GuestServer(hosted.HttpPeer):
    """images/httpd.st in the guest, its port forwarded to 127.0.0.1:self.port."""

    load_total = 5000

    def __init__(self, kernel):
        require_qemu()
        self.port = free_port()
        initrd = guest_httpd.initrd(mini_image())
        words = ["/script.st", str(GUEST_PORT)]
        self.boot = Boot(kernel, initrd, command_line(words),
                         timeout=1500, extra_args=user_net(self.port))
        deadline = time.time() + 300
        while "httpd: serving on port" not in read_growing(self.boot.out):
            if self.boot.poll() or time.time() > deadline:
                self.stop()
                pytest.fail("the guest's server did not start:\n" + self.boot.finish().describe())
            time.sleep(0.2)

    def stop(self):
        if self.boot.process.poll() is None:
            self.boot.process.kill()
        return self.boot.finish()


@pytest.fixture(scope="module")
def server(kernel):
    srv = GuestServer(kernel)
    yield srv
    result = srv.stop()
    # The guest never crashed while serving.
    assert "xenport: CPU exception" not in result.stderr, result.describe()
    assert "xenport: panic" not in result.stderr, result.describe()


# The hosted tests, against the guest (all but SIGTERM: the guest's stop is xl's).
test_static_and_computed_pages = hosted.test_static_and_computed_pages
test_keep_alive_serves_several_requests_on_one_connection = \
    hosted.test_keep_alive_serves_several_requests_on_one_connection
test_malformed_requests_get_400_and_the_server_goes_on = \
    hosted.test_malformed_requests_get_400_and_the_server_goes_on
test_an_oversized_request_head_gets_431 = hosted.test_an_oversized_request_head_gets_431
test_a_stalled_connection_does_not_hold_others_up = \
    hosted.test_a_stalled_connection_does_not_hold_others_up
test_a_thousand_dropped_connections_leave_nothing_open = \
    hosted.test_a_thousand_dropped_connections_leave_nothing_open
test_a_bounded_load_run_has_no_errors = hosted.test_a_bounded_load_run_has_no_errors


def test_the_interface_came_up_by_dhcp(server):
    with open(server.boot.stderr_path, "rb") as f:
        text = f.read().decode("latin-1")
    found = NET_LINE.search(text)
    assert found, text
    mac, address, netmask, gateway, how = found.groups()
    assert (address, netmask, gateway, how) == ("10.0.2.15", "255.255.255.0", "10.0.2.2", "dhcp")


def boot_eval(kernel, words, extra_args=None, timeout=120):
    return Boot(kernel, mini_image(), command_line(words), timeout=timeout,
                extra_args=extra_args).finish()


def test_a_static_address_from_the_command_line(kernel):
    result = boot_eval(kernel, ["--xen-net=10.0.2.20/24,10.0.2.2", "--eval", "3 + 4"],
                       extra_args=user_net())
    assert result.status == 0 and result.stdout.strip() == "7", result.describe()
    found = NET_LINE.search(result.stderr)
    assert found and found.groups()[1:] == ("10.0.2.20", "255.255.255.0", "10.0.2.2",
                                            "static"), result.describe()


@pytest.mark.parametrize("value", ["10.0.2.300/24", "10.0.2.15", "10.0.2.15/33", "dhcpx",
                                   "10.0.2.15/24,gw"])
def test_a_bad_network_option_is_refused(kernel, value):
    result = boot_eval(kernel, ["--xen-net=" + value, "--eval", "3 + 4"], timeout=60)
    assert result.status == 2, result.describe()
    assert "xenport: bad --xen-net=" + value in result.stderr, result.describe()


def test_without_a_device_sockets_fail_cleanly(kernel):
    """No network device: socket() fails as on a kernel without networking, the
    SocketPlugin's create primitive fails, and the image goes on."""
    require_qemu()
    initrd = guest_httpd.initrd(mini_image(), ["CogXen.st", "Socket.st"],
                                b"CogXen print: Socket newTCP socketHandle isNil. CogXen exit: 0!\n")
    result = Boot(kernel, initrd, "/script.st", timeout=120).finish()
    assert result.status == 0, result.describe()
    assert result.stdout.strip().endswith("true"), result.describe()
    assert "xenport: net:" not in result.stderr, result.describe()
