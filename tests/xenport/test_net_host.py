"""The guest's network on the host: lwIP (Debian's sources, the files and the
configuration xenport/Makefile compiles), xenport/net/netif.c and
xenport/net/socket.c, built with gcc, AddressSanitizer and UBSan and a driver
(net_driver.c) that fakes the network device and the clock and plays the peer
at 10.0.0.1 with a small TCP/IP stack of its own.

serve: the socket calls against a well-behaved peer (handshake, echo, FINs,
resets, blocking calls, outgoing connections, UDP), every socket freed.
fuzz: malformed frames (bit flips, truncations, random lengths, header fields,
fragments, ARP/ICMP/UDP/DHCP junk, checksums right half of the time) among live
connections and socket calls, with lwIP's allocations failing now and then;
then every socket and lwIP block is freed, and the stack still serves.
dhcp: a lease from the driver's DHCP server, then malformed server replies.
"""

import os
import re
import subprocess

import pytest

from hostbuild import build_program, run_driver
from qemurun import REPO

HERE = os.path.dirname(os.path.abspath(__file__))
XENPORT = os.path.join(REPO, "xenport")
LWIP = os.path.join(REPO, "build", "lwip")
FETCH = os.path.join(XENPORT, "net", "fetch-lwip.sh")
RUN_TIMEOUT = 300


def makefile_list(name):
    """A `NAME := ...` list of xenport/Makefile, continuation lines joined."""
    with open(os.path.join(XENPORT, "Makefile")) as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"^%s\s*:=(.*)$" % re.escape(name), text, re.M)
    assert m, "no %s in xenport/Makefile" % name
    return m.group(1).split()


def fetch_lwip():
    """build/lwip, fetched (as `make xen` does) when it is not there yet."""
    if os.path.isfile(os.path.join(LWIP, ".fetched")):
        return
    proc = subprocess.Popen(["bash", FETCH, LWIP], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.communicate()[0].decode("utf-8", "replace")
    if proc.returncode != 0 or not os.path.isfile(os.path.join(LWIP, ".fetched")):
        lines = out.strip().splitlines()
        pytest.skip("lwIP's sources are not in build/lwip and %s could not fetch them: %s"
                    % (os.path.relpath(FETCH, REPO), lines[-1] if lines else "no output"))


@pytest.fixture(scope="module")
def driver(tmpdir_factory):
    fetch_lwip()
    includes = ["-I", os.path.join(XENPORT, "net", "port"),
                "-I", os.path.join(LWIP, "src", "include"),
                "-I", os.path.join(XENPORT, "include")]
    # lwIP's own code (the sources xenport/Makefile compiles): gcc's default
    # warnings, those that would break the host build as errors.
    lwip_flags = ["-Werror=implicit-function-declaration", "-Werror=int-conversion"] + includes
    ours = ["-Wall", "-Werror", "-iquote", XENPORT] + includes
    units = []
    for source in makefile_list("LWIP_SOURCES"):
        flags = list(lwip_flags)
        if source == "core/mem.c":            # lwIP's malloc, counted by the driver
            flags += ["-include", os.path.join(HERE, "net_lwip_mem.h")]
        if source == "core/timeouts.c":       # timers' allocations never fail
            flags += ["-Dmemp_malloc=xpt_timeout_memp_malloc"]
        units.append((os.path.join(LWIP, "src", source), flags))
    # netif.c's TSC-seeded random numbers give way to the driver's seeded ones.
    units.append((os.path.join(XENPORT, "net", "netif.c"),
                  ours + ["-Dxp_net_random=xp_net_random_tsc"]))
    # socket.c's libc names become xpt_*, beside glibc's.
    units.append((os.path.join(XENPORT, "net", "socket.c"),
                  ours + ["-include", os.path.join(HERE, "net_rename.h")]))
    units.append((os.path.join(HERE, "net_driver.c"), ours))
    return build_program(tmpdir_factory, "net_driver", units)


def run(driver, *args):
    return run_driver(driver, args, RUN_TIMEOUT)


def value(lines, name):
    for l in lines:
        if l.startswith(name + " "):
            return l[len(name) + 1:]
    raise AssertionError("no %r line in %r" % (name, lines))


def test_lwip_sources_are_the_makefiles():
    sources = makefile_list("LWIP_SOURCES")
    assert "core/tcp_in.c" in sources and "netif/ethernet.c" in sources
    assert "net/netif.c" in makefile_list("XP_SOURCES")
    assert "net/socket.c" in makefile_list("XP_SOURCES")


def test_serve(driver):
    lines = run(driver, "serve")
    for name in ("up", "listen", "handshake", "echo", "peer-fin", "reset",
                 "reset-before-accept", "blocking", "shutdown", "backlog", "listener-close",
                 "connect", "udp", "serve"):
        assert "ok " + name in lines
    assert value(lines, "end sockets") == "0"
    assert value(lines, "bad-tx") == "0"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz(driver, seed):
    lines = run(driver, "fuzz", seed, 20000)
    assert "ok fuzz" in lines
    assert value(lines, "after sockets") == "0"
    assert value(lines, "final sockets") == "0"
    assert value(lines, "bad-tx") == "0"
    assert int(value(lines, "accepted")) > 4


def test_dhcp_replies(driver):
    lines = run(driver, "dhcp", 7, 5000)
    assert "ok lease" in lines and "ok dhcp" in lines
    assert value(lines, "address") == "10.0.0.2"
