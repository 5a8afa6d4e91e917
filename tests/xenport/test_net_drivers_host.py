"""xenport's network drivers on the host: pc/virtio_net.c with pc/virtio_mmio.c
and xen/netfront.c, the real sources built with gcc, AddressSanitizer and
UBSan, and a driver (net_drivers_driver.c) that plays the device and the back
end: a virtio-mmio register window answered by a SIGSEGV handler, fakes for
xenstore, the grant table and event channels.

virtio (legacy and modern) and netfront: tens of thousands of rounds of
frames, transmits and their completions, among malformed used entries and ring
responses (ids out of range, not outstanding or duplicated; lengths, offsets
and statuses outside the buffer; multi-slot frames and extra-info slots; used
indexes jumping); each call checked against a model (frames intact, the
malformed and drop counters exact), then every buffer back in the ring and
every transmit slot usable.  Also: set-ups that fail or improvise, and back
ends whose response indexes break the ring.
"""

import os

import pytest

from hostbuild import build_program, run_driver
from qemurun import REPO

HERE = os.path.dirname(os.path.abspath(__file__))
XENPORT = os.path.join(REPO, "xenport")
NETIF_H = "/usr/include/xen/io/netif.h"
RUN_TIMEOUT = 120
ITERATIONS = 20000


@pytest.fixture(scope="module")
def driver(tmpdir_factory):
    ours = ["-Wall", "-Werror", "-iquote", XENPORT, "-I", os.path.join(XENPORT, "include")]
    units = [
        # The transports' address: the driver's window, not QEMU's.
        (os.path.join(XENPORT, "pc", "virtio_mmio.c"),
         ours + ["-DVMMIO_BASE=({ extern unsigned long xpt_vmmio_base; xpt_vmmio_base; })"]),
        (os.path.join(XENPORT, "pc", "virtio_net.c"), ours),
    ]
    driver_flags = list(ours)
    if os.path.isfile(NETIF_H):
        # Its hypercall is a call into the driver's page: no red zone to trample.
        units.append((os.path.join(XENPORT, "xen", "netfront.c"), ours + ["-mno-red-zone"]))
    else:
        driver_flags.append("-DXPT_NO_NETFRONT")
    units.append((os.path.join(HERE, "net_drivers_driver.c"), driver_flags))
    return build_program(tmpdir_factory, "net_drivers_driver", units)


def needs_netfront():
    if not os.path.isfile(NETIF_H):
        pytest.skip("Xen's public headers are not installed (libxen-dev): no netfront")


def run(driver, *args):
    # The register window's faults are the driver's own to handle.
    return run_driver(driver, args, RUN_TIMEOUT,
                      asan_options="detect_leaks=1:abort_on_error=0:allow_user_segv_handler=1")


def value(lines, name):
    for l in lines:
        if l.startswith(name + " "):
            return int(l[len(name) + 1:])
    raise AssertionError("no %r line in %r" % (name, lines))


@pytest.mark.parametrize("version,num_max,seed", [(1, 256, 1), (2, 256, 2), (2, 16, 3)])
def test_virtio_fuzz(driver, version, num_max, seed):
    lines = run(driver, "virtio", version, num_max, seed, ITERATIONS)
    assert "ok virtio" in lines
    assert value(lines, "slots") == min(num_max, 128) // 2
    for name in ("rx-bad-id", "rx-bad-len", "rx-dups", "tx-bad", "jumps", "tx-full",
                 "rx-dropped"):
        assert value(lines, name) > 0, name
    assert value(lines, "rx-entries") > ITERATIONS
    assert value(lines, "malformed") > ITERATIONS // 10


@pytest.mark.parametrize("kind", ["no-version-1", "features-ok-refused", "queue-in-use",
                                  "tiny-queue", "no-mac-legacy", "no-mac-modern"])
def test_virtio_setup(driver, kind):
    assert "ok virtio-setup " + kind in run(driver, "virtio-setup", kind)


@pytest.mark.parametrize("seed", [1, 2])
def test_netfront_fuzz(driver, seed):
    needs_netfront()
    lines = run(driver, "netfront", seed, ITERATIONS)
    assert "ok netfront" in lines
    for name in ("rx-bad-id", "rx-bad-status", "rx-bad-offset", "rx-more", "rx-extra",
                 "tx-bad", "tx-full", "rx-dropped", "tx-errors"):
        assert value(lines, name) > 0, name
    assert value(lines, "rx-responses") > ITERATIONS
    assert value(lines, "malformed") > ITERATIONS // 10


@pytest.mark.parametrize("kind", ["rx-ahead", "rx-behind", "tx-ahead", "tx-more"])
def test_netfront_broken_ring(driver, kind):
    needs_netfront()
    lines = run(driver, "netfront-broken", kind)
    assert "ok netfront-broken " + kind in lines
    assert len([l for l in lines if "no longer used" in l]) == 1
