"""Nested Xen for the guest tests (`make xen-test`): Xen 4.17 under QEMU (TCG),
a lean dom0 (Debian's kernel, busybox, the xl tools), and `xl create` of the
CogXen kernel as a type="pvh" or type="pv" guest.

Where the files come from: a root folder holding Debian's packages
xen-hypervisor-4.17-amd64, xen-utils-4.17, xenstore-utils, xen-utils-common,
linux-image-amd64's kernel and busybox-static, either installed ("/") or
unpacked into build/ (tests/xenport/xen-packages.sh, which `make xen-test`
runs when they are not installed).  find_xen_files(root) answers the paths or
why they are not usable; the shared libraries of the tools come from the host
(libxen-dev's dependencies), found with ldd.

One QEMU boot runs every case: dom0's /init (written here) creates each guest
paused, unpauses it, polls `xl list -v` until it has shut down (bounded), then
prints its shutdown reason and its console log (xenconsoled --log=guest)
between markers on dom0's console, which Xen copies to the serial line that
this module reads.  The dom0 initramfs is built once into build/ (from the
installed files, never committed); the per-run files (the kernel, images, xl
configs) are an uncompressed cpio appended to it, which Linux unpacks too.

Measured here (2 cores, TCG): dom0 ready ~10 s after QEMU starts; each case a
few seconds (xl's domain build dominates).
"""

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time

from qemurun import newc_archive

QEMU = os.environ.get("COGXEN_QEMU", "qemu-system-x86_64")
XEN_VERSION = "4.17"
TOOLS_DIR = "usr/lib/xen-%s/bin" % XEN_VERSION
TOOLS = ["xl", "xenstored", "xenconsoled", "xen-init-dom0"]
# Taken when there: a guest still running at its limit gets its registers noted.
OPTIONAL_TOOLS = ["xen-hvmctx"]
MODULES = ["xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd", "xenfs"]
# For guests with a vif: netback and the bridge dom0 puts them on (optional:
# without them the network cases are skipped), in insmod order, with their
# paths under the kernel's modules folder.
NET_MODULES = [("llc", "net/llc"), ("stp", "net/802"), ("bridge", "net/bridge"),
               ("xen-netback", "drivers/net/xen-netback")]
# dom0's bridge for the guests' vifs (vif = ['bridge=xenbr0,script=...']).
BRIDGE = "xenbr0"
BRIDGE_ADDRESS = "10.0.3.1/24"
VIF_SCRIPT = "/etc/xen/scripts/vif-cogxen"
SHUTDOWN_REASONS = {"0": "poweroff", "1": "reboot", "2": "suspend", "3": "crash",
                    "4": "watchdog", "5": "soft_reset"}
MARK = "XENTEST"


class XenFiles(object):
    def __init__(self, root, hypervisor, vmlinuz, modules, busybox, tools, xenstore_read,
                 xl_conf, net_modules=None):
        self.root = root
        self.hypervisor = hypervisor        # xen-4.17-amd64.gz
        self.vmlinuz = vmlinuz
        self.modules = modules              # {name: path}
        self.busybox = busybox
        self.tools = tools                  # {name: path}
        self.xenstore_read = xenstore_read
        self.xl_conf = xl_conf
        self.net_modules = net_modules or {}    # {name: path}: all of NET_MODULES, or none

    def all_paths(self):
        return ([self.hypervisor, self.vmlinuz, self.busybox, self.xenstore_read, self.xl_conf] +
                sorted(self.modules.values()) + sorted(self.tools.values()) +
                sorted(self.net_modules.values()))

    def network(self):
        """Whether dom0 can give guests a bridged vif (netback, the bridge)."""
        return len(self.net_modules) == len(NET_MODULES)


def find_xen_files(root):
    """(XenFiles, None) when root holds everything, else (None, reason)."""
    def p(rel):
        return os.path.join(root, rel)
    hyp = p("boot/xen-%s-amd64.gz" % XEN_VERSION)
    if not os.path.isfile(hyp):
        return None, "no Xen hypervisor %s (package xen-hypervisor-%s-amd64)" % (hyp, XEN_VERSION)
    # A kernel whose modules include the Xen drivers dom0 needs.
    kernels = []
    boot = p("boot")
    for name in sorted(os.listdir(boot)):
        m = re.match(r"vmlinuz-(.*)$", name)
        if not m:
            continue
        moddir = p("lib/modules/%s/kernel/drivers/xen" % m.group(1))
        mods = {}
        for mod in MODULES:
            for cand in (os.path.join(moddir, mod + ".ko"),
                         os.path.join(moddir, mod, mod + ".ko")):
                if os.path.isfile(cand):
                    mods[mod] = cand
        if len(mods) == len(MODULES):
            net = {}
            for mod, folder in NET_MODULES:
                cand = p("lib/modules/%s/kernel/%s/%s.ko" % (m.group(1), folder, mod))
                if os.path.isfile(cand):
                    net[mod] = cand
            kernels.append((os.path.join(boot, name), mods, net))
    if not kernels:
        return None, ("no Linux kernel in %s with the Xen dom0 modules %s (package "
                      "linux-image-amd64)" % (boot, ", ".join(MODULES)))
    vmlinuz, mods, net_mods = kernels[-1]
    if len(net_mods) != len(NET_MODULES):
        net_mods = {}
    busybox = None
    for cand in ("bin/busybox", "usr/bin/busybox"):
        if os.path.isfile(p(cand)):
            busybox = p(cand)
            break
    if not busybox:
        return None, "no busybox in %s (package busybox-static)" % root
    tools = {}
    for t in TOOLS:
        if not os.path.isfile(os.path.join(p(TOOLS_DIR), t)):
            return None, "no %s in %s (package xen-utils-%s)" % (t, p(TOOLS_DIR), XEN_VERSION)
        tools[t] = os.path.join(p(TOOLS_DIR), t)
    for t in OPTIONAL_TOOLS:
        if os.path.isfile(os.path.join(p(TOOLS_DIR), t)):
            tools[t] = os.path.join(p(TOOLS_DIR), t)
    xsr = p("usr/bin/xenstore-read")
    if not os.path.isfile(xsr):
        return None, "no %s (package xenstore-utils)" % xsr
    xl_conf = p("etc/xen/xl.conf")
    if not os.path.isfile(xl_conf):
        return None, "no %s (package xen-utils-common)" % xl_conf
    return XenFiles(root, hyp, vmlinuz, mods, busybox, tools, xsr, xl_conf, net_mods), None


def qemu_available():
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if os.access(os.path.join(folder, QEMU), os.X_OK):
            return True
    return os.access(QEMU, os.X_OK)


# --- cpio (newc) with folders, modes and symbolic links ---------------------------

class Cpio(object):
    def __init__(self):
        self.entries = []            # (name, mode, data)
        self.names = set()

    def _add(self, name, mode, data):
        name = name.lstrip("/")
        if name in self.names:
            return
        parent = os.path.dirname(name)
        if parent and parent not in self.names:
            self.dir(parent)
        self.names.add(name)
        self.entries.append((name, mode, data))

    def dir(self, name):
        self._add(name, 0o040755, b"")

    def file(self, name, data, mode=0o644):
        self._add(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._add(name, 0o120777, target.encode("utf-8"))

    def bytes(self):
        return newc_archive(self.entries)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def shared_libraries(binaries, extra_lib_dirs=()):
    """{path in dom0: host path} of what ldd says the binaries need, plus
    libgcc_s.so.1 (loaded by dlopen for pthread_cancel, which ldd does not show).
    Raises RuntimeError naming a missing library."""
    env = dict(os.environ)
    if extra_lib_dirs:
        env["LD_LIBRARY_PATH"] = ":".join(extra_lib_dirs)
    libs = {}
    for b in binaries:
        proc = subprocess.Popen(["ldd", b], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=env)
        out = proc.communicate()[0].decode("utf-8", "replace")
        if "not a dynamic executable" in out:
            continue
        for line in out.splitlines():
            line = line.strip()
            m = re.match(r"(\S+) => not found", line)
            if m:
                raise RuntimeError("%s needs %s, which is not installed" % (b, m.group(1)))
            m = re.match(r"(\S+) => (/\S+)", line) or re.match(r"(/\S+) \(0x", line)
            if m:
                host = m.group(2) if m.lastindex == 2 else m.group(1)
                # In dom0 every library sits in the multiarch folder (found
                # without an ld.so.cache); the loader keeps its absolute path.
                name = m.group(1) if m.group(1).startswith("/") else \
                    os.path.join("/lib/x86_64-linux-gnu", m.group(1))
                libs[name] = host
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"):
        gcc = os.path.join(d, "libgcc_s.so.1")
        if os.path.isfile(gcc):
            libs["/lib/x86_64-linux-gnu/libgcc_s.so.1"] = gcc
            break
    return libs


INIT = r"""#!/bin/busybox sh
# dom0's /init for the CogXen nested-Xen tests (tests/xenport/xenrun.py).
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/%(tools)s
up() { cut -d' ' -f1 /proc/uptime; }
say() { echo "%(mark)s $*"; }
note() { say "note $name $*"; }
fail() { say "dom0-failed $*"; poweroff -f; }
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/xen /run/xenstored /var/log/xen/console /var/lib/xen /var/lock
ln -s /run /var/run 2>/dev/null
for m in %(modules)s; do insmod /modules/$m.ko || fail "insmod $m"; done
mkdir -p /proc/xen && mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
XENSTORED_ROOTDIR=/run/xenstored xenstored --pid-file=/run/xenstored.pid || fail xenstored
n=0
until xenstore-read -s / >/dev/null 2>&1; do
    n=$((n + 1)); [ $n -gt 200 ] && fail "xenstored does not answer"; sleep 0.1
done
xen-init-dom0 >/tmp/init-dom0.log 2>&1 || { cat /tmp/init-dom0.log; fail xen-init-dom0; }
xenconsoled --log=guest --log-dir=/var/log/xen/console || fail xenconsoled
# The guests' network: netback and a bridge with dom0's address on it; each
# vif joins it through VIF_SCRIPT (libxl runs it: there is no udev).
ip link set lo up
if [ -n "%(net_modules)s" ]; then
    for m in %(net_modules)s; do insmod /modules/$m.ko || say "note dom0 insmod-failed $m"; done
    brctl addbr %(bridge)s && brctl setfd %(bridge)s 0 && brctl stp %(bridge)s off
    ip addr add %(bridge_address)s dev %(bridge)s && ip link set %(bridge)s up ||
        say "note dom0 no-bridge"
fi
say "dom0-ready $(up)"
for cfg in /cases/*.cfg; do
    name=$(basename "$cfg" .cfg)
    limit=$(cat "/cases/$name.limit")
    say "begin $name $(up)"
    if ! xl create -p "$cfg" >/tmp/xl.log 2>&1; then
        cat /tmp/xl.log; say "end $name reason=create-failed $(up)"; continue
    fi
    say "created $name $(up)"
    # A failed unpause would leave the guest paused until the limit: retry, say so.
    n=0
    until xl unpause "$name" >/tmp/xl-unpause.log 2>&1; do
        n=$((n + 1)); note unpause-failed $(cat /tmp/xl-unpause.log)
        [ $n -ge 3 ] && break; sleep 0.2
    done
    say "unpaused $name $(up)"
    # A case's own steps while the guest runs (xl shutdown, CPU time samples).
    action=
    if [ -f "/cases/$name.action" ]; then ( . "/cases/$name.action" ) & action=$!; fi
    reason=timeout
    start=$(up)
    first=
    while :; do
        # When the guest's first console output reached xenconsoled's log.
        if [ -z "$first" ] && [ -s "/var/log/xen/console/guest-$name.log" ]; then
            first=$(up); note first-output $first
        fi
        line=$(xl list -v "$name" 2>/dev/null | tail -n 1)
        state=$(echo "$line" | awk '{print $5}')
        case "$state" in
            *s*|*c*) reason=$(echo "$line" | awk '{print $8}'); break ;;
        esac
        [ -z "$line" ] && { reason=gone; break; }
        now=$(up)
        awk -v a="$start" -v b="$now" -v l="$limit" 'BEGIN { exit !(b - a > l) }' && break
        sleep 0.05
    done
    # A guest still there at the limit: its state (r, b, p...) says why, and
    # where its vCPU is (PVH: the HVM context; twice, to see whether it moves).
    if [ "$reason" = timeout ]; then
        note state $(echo "$line" | awk '{print $5}')
        domid=$(xl domid "$name" 2>/dev/null)
        for k in 1 2; do
            note rip$k $(xen-hvmctx "$domid" 2>/dev/null | grep -o 'rip 0x[0-9a-f]*' | head -n 1)
            sleep 0.2
        done
        # What it wrote last under its data/ (the self-tests' requests).
        note data $(xenstore-ls -f "/local/domain/$domid/data" 2>/dev/null | tr '\n' ' ' | cut -c1-600)
    fi
    say "end $name reason=$reason $(up)"
    [ -n "$action" ] && wait "$action"
    # Let xenconsoled write out what it read last.
    sleep 0.3
    say "console-begin $name"
    cat "/var/log/xen/console/guest-$name.log" 2>/dev/null
    echo
    say "console-end $name"
    xl destroy "$name" >/dev/null 2>&1
done
say "done $(up)"
poweroff -f
"""


# The vif hotplug script (libxl runs it with online/offline, XENBUS_PATH and
# vif=vifD.N in its environment): the vif joins the bridge, and the back end
# learns it may connect (hotplug-status).
VIF_SCRIPT_TEXT = r"""#!/bin/sh
export PATH=/bin:/usr/bin
dev=${vif:-$(echo "$XENBUS_PATH" | awk -F/ '{ print "vif" $(NF - 1) "." $NF }')}
echo "$(date +%%T) $1 $dev" >> /tmp/vif-cogxen.log
case "$1" in
online|add)
    ip link set "$dev" up && brctl addif %(bridge)s "$dev" || exit 1
    xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
offline|remove)
    brctl delif %(bridge)s "$dev" 2>/dev/null
    ip link set "$dev" down 2>/dev/null ;;
esac
exit 0
"""


def build_dom0_initramfs(files, out_path):
    """The dom0 initramfs (gzip cpio) from XenFiles; rebuilt only when its
    inputs change (a digest of their paths, sizes and times)."""
    stamp = hashlib.sha1()
    for path in files.all_paths() + [__file__]:
        st = os.stat(path)
        stamp.update(("%s %d %d\n" % (path, st.st_size, int(st.st_mtime))).encode("utf-8"))
    stamp_path = out_path + ".stamp"
    if os.path.isfile(out_path) and os.path.isfile(stamp_path) and \
            _read(stamp_path).decode("ascii") == stamp.hexdigest():
        return out_path
    c = Cpio()
    for d in ("bin", "dev", "proc", "sys", "run", "tmp", "etc/xen", "var/lib/xen",
              "var/log/xen/console", "var/lock", "modules", "cases", "guest"):
        c.dir(d)
    net_modules = [m for m, _ in NET_MODULES if m in files.net_modules]
    c.file("init", (INIT % {"tools": TOOLS_DIR, "mark": MARK,
                            "modules": " ".join(MODULES),
                            "net_modules": " ".join(net_modules),
                            "bridge": BRIDGE, "bridge_address": BRIDGE_ADDRESS,
                            }).encode("utf-8"), 0o755)
    c.file(VIF_SCRIPT.lstrip("/"), (VIF_SCRIPT_TEXT % {"bridge": BRIDGE}).encode("utf-8"),
           0o755)
    c.file("bin/busybox", _read(files.busybox), 0o755)
    c.symlink("bin/sh", "busybox")
    for name, path in sorted(files.tools.items()):
        c.file(os.path.join(TOOLS_DIR, name), _read(path), 0o755)
    c.file("usr/bin/xenstore-read", _read(files.xenstore_read), 0o755)
    # One program: it acts by the name it is called by.
    c.symlink("usr/bin/xenstore-write", "xenstore-read")
    c.symlink("usr/bin/xenstore-ls", "xenstore-read")
    c.file("etc/xen/xl.conf", _read(files.xl_conf))
    for name, path in sorted(files.modules.items()) + sorted(files.net_modules.items()):
        c.file("modules/%s.ko" % name, _read(path))
    libdirs = []
    if files.root != "/":
        libdirs = [os.path.join(files.root, d) for d in
                   ("lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu")]
    libs = shared_libraries(list(files.tools.values()) + [files.xenstore_read, files.busybox],
                            libdirs)
    for name, host in sorted(libs.items()):
        c.file(name, _read(os.path.realpath(host)), 0o755)
    tmp = out_path + ".tmp"
    d = os.path.dirname(out_path)
    if d and not os.path.isdir(d):
        os.makedirs(d)
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
            gz.write(c.bytes())
    os.rename(tmp, out_path)
    with open(stamp_path, "w") as f:
        f.write(stamp.hexdigest())
    return out_path


# --- the cases ----------------------------------------------------------------------

class Case(object):
    """One `xl create`: kernel, ramdisk (bytes) and the guest's command line."""

    def __init__(self, name, extra, ramdisk, memory_mb=128, limit=60, action=None,
                 type="pvh", mac=None):
        """action: dom0 shell lines run in the background once the guest is
        unpaused; they see $name and may report with `note KEY VALUE...`
        (CaseResult.notes) and `up` (dom0's uptime).  type: xl's type=, "pvh"
        or "pv" (the same ELF boots both ways).  mac: the guest gets a vif
        with this MAC on dom0's bridge (BRIDGE, dom0 at BRIDGE_ADDRESS)."""
        assert re.match(r"^[a-z0-9-]+$", name), name
        assert type in ("pvh", "pv"), type
        self.name = name
        self.type = type
        self.extra = extra
        self.ramdisk = ramdisk
        self.memory_mb = memory_mb
        self.limit = limit
        self.action = action
        self.mac = mac


class CaseResult(object):
    def __init__(self, name):
        self.name = name
        self.reason = None          # poweroff, crash, reboot, timeout, create-failed, ...
        self.console = ""           # the guest's PV console (xenconsoled's log)
        self.xen_lines = []         # "(dN) ..." lines: its port 0xe9 output on Xen's console
        self.times = {}             # dom0 uptime at begin/created/unpaused/end
        self.host_times = {}        # host seconds since QEMU started, for the same marks
        self.notes = {}             # what the case's action reported: KEY -> [words]

    def console_lines(self):
        return [l.rstrip("\r") for l in self.console.splitlines()]

    def exit_status(self):
        """The status from the guest's last line "xenport: exit status N", or None."""
        for line in reversed(self.console_lines()):
            m = re.match(r"^xenport: exit status (-?\d+)$", line)
            if m:
                return int(m.group(1))
        return None

    def describe(self):
        return ("case %s: reason %s, times %s, notes %s\n--- console ---\n%s\n"
                "--- Xen console ---\n%s" % (
                    self.name, self.reason, self.times, self.notes, self.console[-3000:],
                    "\n".join(self.xen_lines)[-2000:]))


class Run(object):
    def __init__(self):
        self.cases = {}
        self.serial = []            # (host seconds, line)
        self.seconds = None         # the whole QEMU run
        self.timed_out = False
        self.stalled = False        # dom0 stopped sending markers (run_cases' stall)
        self.dom0_ready = None      # host seconds
        self.done = False
        self.qemu_status = None

    def serial_text(self, limit=6000):
        text = "\n".join(l for _, l in self.serial)
        return text[-limit:]


def xl_config(case, kernel_path, ramdisk_path, uuid):
    def q(s):
        assert '"' not in s and "\\" not in s, s
        return '"%s"' % s
    vif = []
    if case.mac:
        vif = ["vif = [ %s ]" % q("mac=%s,bridge=%s,script=%s" % (case.mac, BRIDGE, VIF_SCRIPT))]
    return "\n".join([
        "name = %s" % q(case.name),
        "type = %s" % q(case.type),
        "kernel = %s" % q(kernel_path),
        "ramdisk = %s" % q(ramdisk_path),
        "extra = %s" % q(case.extra),
        "memory = %d" % case.memory_mb,
        "vcpus = 1",
        "uuid = %s" % q(uuid),
        'on_poweroff = "preserve"',
        'on_crash = "preserve"',
        'on_reboot = "preserve"',
    ] + vif + [""])


def case_archive(kernel, cases):
    """The per-run cpio: the guest kernel, each case's ramdisk and xl config."""
    c = Cpio()
    c.file("guest/cogxen.xen", _read(kernel), 0o644)
    for i, case in enumerate(cases):
        ramdisk = "guest/%s.ramdisk" % case.name
        c.file(ramdisk, case.ramdisk)
        uuid = "c0c0%04x-0000-4000-8000-%012x" % (i, i + 1)
        c.file("cases/%s.cfg" % case.name,
               xl_config(case, "/guest/cogxen.xen", "/" + ramdisk, uuid).encode("utf-8"))
        c.file("cases/%s.limit" % case.name, ("%d\n" % case.limit).encode("ascii"))
        if case.action:
            c.file("cases/%s.action" % case.name, case.action.encode("utf-8"))
    return c.bytes()


def qemu_argv(xen_gz_path, work, vmlinuz, initrd, xen_cmdline=None, memory_mb=2048):
    xen = os.path.join(work, "xen-%s.elf" % XEN_VERSION)
    if not os.path.isfile(xen) or os.path.getmtime(xen) < os.path.getmtime(xen_gz_path):
        # QEMU's multiboot loader takes the ELF, not the .gz.
        with gzip.open(xen_gz_path, "rb") as src, open(xen + ".tmp", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.rename(xen + ".tmp", xen)
    if xen_cmdline is None:
        xen_cmdline = ("console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M "
                       "loglvl=all guest_loglvl=all")
    dom0_cmdline = "console=hvc0 earlyprintk=xen panic=-1 quiet"

    def esc(s):
        return s.replace(",", ",,")
    return [QEMU, "-accel", "tcg", "-M", "pc", "-cpu", "qemu64,+svm,+npt,+nrip-save",
            "-smp", "2", "-m", str(memory_mb), "-nographic", "-no-reboot", "-nodefaults",
            "-serial", "stdio", "-monitor", "none", "-display", "none",
            "-kernel", xen, "-append", xen_cmdline,
            "-initrd", "%s %s,%s" % (esc(vmlinuz), esc(dom0_cmdline), esc(initrd))]


MARKER = re.compile(MARK + r" (?:(begin|created|unpaused|end) ([a-z0-9-]+)(?: reason=([\w-]+))?"
                   r" (\d+\.\d+)|(console-begin|console-end) ([a-z0-9-]+)|(dom0-ready|done)"
                   r"|dom0-failed|note ([a-z0-9-]+) ([\w-]+)((?: [^ ]+)*))")
XEN_GUEST_LINE = re.compile(r"\(d(\d+)\) (.*)$")


def parse_serial(run, cases):
    """Fill run.cases from the serial lines.  Xen interleaves its own lines (a
    guest's port 0xe9 output, "(dN) ...") with dom0's console at line ends, so
    markers and guest lines are searched for anywhere in a line."""
    current = None
    in_console = None
    console = []
    for t, line in run.serial:
        m = MARKER.search(line)
        if m and (in_console is None or m.group(5) == "console-end"):
            if m.group(1):
                what, name = m.group(1), m.group(2)
                r = run.cases.setdefault(name, CaseResult(name))
                current = r
                r.times[what] = float(m.group(4))
                r.host_times[what] = t
                if what == "end":
                    r.reason = SHUTDOWN_REASONS.get(m.group(3), m.group(3))
            elif m.group(5) == "console-begin":
                in_console = m.group(6)
                console = []
            elif m.group(5) == "console-end":
                if in_console in run.cases:
                    run.cases[in_console].console = "\n".join(console)
                in_console = None
            elif m.group(8):
                r = run.cases.setdefault(m.group(8), CaseResult(m.group(8)))
                words = m.group(10)
                # Xen may have put a guest's "(dN) ..." line right after the note.
                dm = XEN_GUEST_LINE.search(words)
                if dm:
                    words = words[:dm.start()]
                    if current is not None:
                        current.xen_lines.append(dm.group(2).rstrip("\r"))
                r.notes[m.group(9)] = words.split()
                continue
            elif m.group(7) == "dom0-ready":
                run.dom0_ready = t
            elif m.group(7) == "done":
                run.done = True
            rest = line[m.end():]
            dm = XEN_GUEST_LINE.search(rest)
            if dm and current is not None:
                current.xen_lines.append(dm.group(2).rstrip("\r"))
            continue
        if in_console is not None:
            # Xen's own messages may come between the lines of the log.
            if not line.startswith("(XEN) ") and not XEN_GUEST_LINE.match(line):
                console.append(line)
            continue
        dm = XEN_GUEST_LINE.search(line)
        if dm and current is not None:
            current.xen_lines.append(dm.group(2).rstrip("\r"))
    return run


def run_cases(kernel, cases, files, work, timeout=300, log_path=None, stall=None):
    """Boot Xen + dom0 under QEMU once and run the cases; a Run.  stall: seconds
    without a marker from dom0's /init after which the run counts as stalled
    (run.stalled, QEMU killed): dom0 itself stopped, e.g. its CPU 0 starved."""
    if not os.path.isdir(work):
        os.makedirs(work)
    dom0 = build_dom0_initramfs(files, os.path.join(work, "dom0.cpio.gz"))
    initrd = os.path.join(work, "dom0+cases.cpio")
    data = _read(dom0)
    data += b"\0" * (-len(data) % 4)
    with open(initrd, "wb") as f:
        f.write(data + case_archive(kernel, cases))
    argv = qemu_argv(files.hypervisor, work, files.vmlinuz, initrd)
    run = Run()
    start = time.time()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)

    def reader():
        buf = b""
        while True:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                run.serial.append((time.time() - start,
                                   line.decode("utf-8", "replace").rstrip("\r")))
        if buf:
            run.serial.append((time.time() - start, buf.decode("utf-8", "replace")))
    th = threading.Thread(target=reader)
    th.daemon = True
    th.start()
    deadline = start + timeout
    seen, last_mark = 0, time.time()
    while proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
        lines = run.serial[seen:]
        seen += len(lines)
        if any(MARK in line for _, line in lines):
            last_mark = time.time()
        if stall and time.time() - last_mark > stall:
            run.stalled = True
            break
    if proc.poll() is None:
        run.timed_out = True
        proc.kill()
    proc.wait()
    th.join(5)
    run.qemu_status = proc.returncode
    run.seconds = time.time() - start
    if log_path:
        with open(log_path, "w") as f:
            for t, line in run.serial:
                f.write("%8.3f %s\n" % (t, line))
    run = parse_serial(run, cases)
    for r in run.cases.values():
        for key in ("rip1", "rip2"):
            words = r.notes.get(key, [])
            if len(words) == 2:
                words.append(kernel_symbol(kernel, int(words[1], 16)))
    return run


def kernel_symbol(kernel, address):
    """function+offset of address in the kernel ELF (its symbol table); past
    its text, the JIT's machine code (or a wild jump)."""
    try:
        out = subprocess.check_output(["nm", "-n", "--defined-only", kernel])
    except (OSError, subprocess.CalledProcessError):
        return "?"
    best = None
    for line in out.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            a = int(parts[0], 16)
            if a > address:
                break
            best = (parts[2], address - a)
    if best and best[0] == "__text_end":
        return "past-the-kernel-text"
    return "%s+0x%x" % best if best else "?"


def main(args):
    """xenrun.py --check ROOT: exit 0 when ROOT holds the Xen files, else say why.
    xenrun.py ROOT KERNEL IMAGE [EXTRA]: one case, the serial log on stdout."""
    if args[:1] == ["--check"]:
        files, why = find_xen_files(args[1])
        if not files:
            sys.stderr.write("xenrun: %s\n" % why)
            return 1
        return 0
    root, kernel, image = args[:3]
    extra = args[3] if len(args) > 3 else "--eval '3 + 4'"
    files, why = find_xen_files(root)
    if not files:
        sys.stderr.write("xenrun: %s\n" % why)
        return 1
    r = run_cases(kernel, [Case("eval", extra, _read(image))], files,
                  os.path.join(os.path.dirname(os.path.abspath(kernel)), "xen-test"))
    print(r.serial_text(1000000))
    for c in r.cases.values():
        print(c.describe())
    print("run: %.1f s, timed out %s, dom0 ready at %s s" % (r.seconds, r.timed_out, r.dom0_ready))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
