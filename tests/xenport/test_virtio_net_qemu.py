"""virtio-net over virtio-mmio (xenport/pc/virtio_net.c) under QEMU's microvm.

The self-test kernel's --xen-selftest checks the driver against a real device
on QEMU's user networking: an ARP request for the gateway 10.0.2.2 and its
answer, a frame too large for the caller's buffer (dropped and counted), 300
frames through the 64 transmit buffers.  Once with the transport as QEMU 7.2
makes it by default (virtio-mmio version 1, legacy: a 10-byte virtio_net_hdr),
once modern (version 2, VIRTIO_F_VERSION_1: 12 bytes); and once without a
device, which the self-test reports and passes.
"""

import pytest

from qemurun import require_qemu, run_kernel

MAC = "52:54:00:12:34:56"
NET = ["-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0,mac=" + MAC]
MODERN = ["-global", "virtio-mmio.force-legacy=false"]


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


def selftest(kernel, extra_args=None):
    r = run_kernel(kernel, cmdline="--xen-info --xen-selftest", timeout=60,
                   memory_mb=64, extra_args=extra_args)
    if "network backend 'user'" in r.qemu_error:
        pytest.skip("this QEMU has no user networking: %s" % r.qemu_error)
    return r


@pytest.mark.parametrize("transport, version, header", [
    ("legacy", 1, 10),
    ("modern", 2, 12),
])
def test_arp_for_the_gateway(selftest_kernel, transport, version, header):
    r = selftest(selftest_kernel, (MODERN if transport == "modern" else []) + NET)
    assert r.status == 0, r.describe()
    assert ("selftest: virtio-net: virtio-mmio v%d (%s) at 0xfeb" % (version, transport)
            in r.stderr), r.describe()
    assert "%d-byte header" % header in r.stderr, r.describe()
    assert ("selftest: virtio-net: mac %s, ARP 10.0.2.2 is at 52:55:0a:00:02:02 ... ok" % MAC
            in r.stderr), r.describe()
    assert "300 of 300 frames sent" in r.stderr, r.describe()
    assert "FAILED" not in r.stderr, r.describe()
    assert "selftest: pvh: 0 failures" in r.stderr, r.describe()
    # --xen-info at exit: the device and its counters.
    assert ("xenport: net virtio-net mac %s, virtio-mmio v%d (%s)" % (MAC, version, transport)
            in r.stderr), r.describe()
    assert "xenport: net virtio-net: tx 302 frames" in r.stderr, r.describe()
    assert "malformed 0" in r.stderr, r.describe()


def test_no_device(selftest_kernel):
    r = selftest(selftest_kernel)
    assert r.status == 0, r.describe()
    assert ("selftest: virtio-net: no virtio-net device on the virtio-mmio transports ... ok"
            in r.stderr), r.describe()
    assert "xenport: net " not in r.stderr, r.describe()
