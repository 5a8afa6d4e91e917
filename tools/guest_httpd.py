#!/usr/bin/env python
"""guest_httpd.py: images/httpd.st served by the Xen guest kernel under QEMU
(`make httpd-guest`), reached on 127.0.0.1:PORT through user networking's hostfwd.

The boot module is a cpio archive of mini.image and one script (images/CogXen.st,
Socket.st and httpd.st, in that order); the guest takes its address by DHCP from
QEMU (10.0.2.15) and serves on port 8080 inside, forwarded from PORT outside.

  python tools/guest_httpd.py --kernel build/cogxen.xen --image mini.image --port 8080

Runs with Python 2.7 or 3; `make bench-net` uses start() for its guest row.
"""

from __future__ import print_function

import argparse
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
from newc import cpio_archive  # noqa: E402

GUEST_PORT = 8080
SCRIPTS = ("CogXen.st", "Socket.st", "httpd.st")


def initrd(image_data, scripts=SCRIPTS, more=b""):
    """The boot module: mini.image (image_data) and /script.st, the given files
    of images/ one after the other, then more."""
    script = b"".join(open(os.path.join(REPO, "images", name), "rb").read() + b"\n"
                      for name in scripts) + more
    return cpio_archive([("mini.image", image_data), ("script.st", script)])


def qemu_argv(kernel, initrd_path, host_port, jit=True, memory_mb=256):
    words = ([] if jit else ["--jit", "off"]) + ["/script.st", str(GUEST_PORT)]
    return ["qemu-system-x86_64", "-accel", "tcg", "-M", "microvm", "-m", str(memory_mb),
            "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
            "-monitor", "none", "-display", "none",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d" % (host_port, GUEST_PORT),
            "-device", "virtio-net-device,netdev=n0",
            "-kernel", kernel, "-initrd", initrd_path, "-append", " ".join(words)]


def start(kernel, image, host_port, jit=True, **popen_args):
    """QEMU serving images/httpd.st on 127.0.0.1:host_port (a Popen); the archive
    goes to a temporary file that the caller may delete once QEMU has started."""
    fd, path = tempfile.mkstemp(prefix="cogxen-httpd-", suffix=".cpio")
    with open(image, "rb") as f:
        data = initrd(f.read())
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    proc = subprocess.Popen(qemu_argv(kernel, path, host_port, jit), **popen_args)
    proc.initrd_path = path
    return proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", default=os.path.join(REPO, "build", "cogxen.xen"))
    parser.add_argument("--image", required=True, help="mini.image")
    parser.add_argument("--port", type=int, default=8080, help="on 127.0.0.1")
    parser.add_argument("--jit-off", action="store_true", help="the interpreter only")
    args = parser.parse_args()
    for path, what in ((args.kernel, "the guest kernel (make xen)"), (args.image, "the image")):
        if not os.path.isfile(path):
            sys.exit("guest_httpd.py: %s not found: %s" % (what, path))
    print("guest_httpd.py: http://127.0.0.1:%d/ once the guest says it is serving; "
          "Ctrl-A x ends QEMU" % args.port, file=sys.stderr)
    proc = start(args.kernel, args.image, args.port, not args.jit_off)
    try:
        return proc.wait()
    finally:
        os.unlink(proc.initrd_path)


if __name__ == "__main__":
    sys.exit(main())
