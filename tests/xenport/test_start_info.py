"""xenport's check of a PV guest's start_info (xenport/xen/start_info.c),
compiled for the host with gcc and fed the layout Xen's domain builder makes,
each field broken in turn, and random structs (with AddressSanitizer and UBSan
when the compiler has them): a start_info the guest cannot use is a reason,
never a crash or a wrong map."""

import os
import random
import subprocess

import pytest

from hostbuild import build_driver

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = 4096
MIN_FREE = 16 << 20
MAGIC = "xen-3.0-x86_64"


@pytest.fixture(scope="module")
def driver(tmpdir_factory):
    return build_driver(tmpdir_factory, "start-info", ["xen/start_info.c"],
                        os.path.join(HERE, "start_info_driver.c"), "/usr/include/xen/xen.h")


def check(driver, records):
    data = "".join("".join("%s %s\n" % (k, v) for k, v in sorted(r.items())) + "\n"
                   for r in records)
    proc = subprocess.Popen([driver], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out, err = proc.communicate(data.encode("ascii"))
    assert proc.returncode == 0, (proc.returncode, err[-2000:])
    lines = out.decode("ascii").splitlines()
    assert len(lines) == len(records)
    return lines


def layout(memory_mb=128, ramdisk=726656):
    """What Xen 4.17's domain builder gives a guest of this kernel: kernel at
    1 MiB, then the ramdisk, the p2m list, start_info, xenstore, console, the
    page tables and the boot stack, page after page."""
    pages = memory_mb << 8
    kernel_end = 0x15a000
    mod_start = kernel_end
    p2m = mod_start + (ramdisk + PAGE - 1) // PAGE * PAGE
    si = p2m + (pages * 8 + PAGE - 1) // PAGE * PAGE
    pt = si + 3 * PAGE
    nr_pt = 6
    stack = pt + nr_pt * PAGE
    return dict(magic=MAGIC, nr_pages=pages, flags=0, pt_base=pt, nr_pt_frames=nr_pt,
                mfn_list=p2m, mod_start=mod_start, mod_len=ramdisk, si_va=si,
                kernel_end=kernel_end, boot_rsp=stack + PAGE)


def test_the_domain_builders_layout_is_used(driver):
    good = layout()
    first_free = good["boot_rsp"] // PAGE
    assert check(driver, [good]) == ["ok %d %d %d" % (first_free, good["mod_start"],
                                                       good["mod_len"])]


def test_no_ramdisk_and_a_ramdisk_given_by_frame(driver):
    none = dict(layout(), mod_start=0, mod_len=0)
    by_pfn = dict(layout(), flags=8, mod_start=layout()["mod_start"] // PAGE)   # SIF_MOD_START_PFN
    first_free = layout()["boot_rsp"] // PAGE
    assert check(driver, [none, by_pfn]) == [
        "ok %d 0 0" % first_free,
        "ok %d %d %d" % (first_free, layout()["mod_start"], layout()["mod_len"])]


def test_too_little_memory_is_said(driver):
    for mb in (8, 16, 17):
        assert check(driver, [layout(memory_mb=mb)]) == ["error too little memory"]
    assert check(driver, [layout(memory_mb=24)])[0].startswith("ok ")


@pytest.mark.parametrize("field, value, why", [
    ("magic", "xen-3.0-x86_32p", "magic"),
    ("magic", "linux", "magic"),
    ("nr_pages", 0, "nr_pages"),
    ("nr_pages", 1 << 40, "nr_pages"),
    ("si_va", 0x1000, "start_info"),
    ("si_va", 0x7f0001, "start_info"),
    ("mfn_list", 0x10, "p2m"),
    ("pt_base", 0x100000, "page tables"),
    ("nr_pt_frames", 0, "page tables"),
    ("nr_pt_frames", 1 << 20, "page tables"),
    ("boot_rsp", 1 << 40, "boot stack"),
    ("mod_start", 0, "ramdisk"),
    ("mod_len", 1 << 50, "ramdisk"),
])
def test_a_broken_field_is_a_reason(driver, field, value, why):
    (line,) = check(driver, [dict(layout(), **{field: value})])
    assert line.startswith("error ") and why in line, line


def test_random_start_infos_never_crash_or_map_wrongly(driver):
    rnd = random.Random(12)
    records = []
    for i in range(3000):
        r = layout(memory_mb=rnd.choice([16, 24, 64, 128, 4096]),
                   ramdisk=rnd.choice([0, 1, 4096, 726656, 20 << 20]))
        if r["mod_len"] == 0:
            r["mod_start"] = 0
        for _ in range(rnd.randint(0, 3)):
            field = rnd.choice(sorted(r))
            if field == "magic":
                r[field] = rnd.choice([MAGIC, "xen-", "-", "xen-3.0-x86_64p"])
            else:
                r[field] = rnd.choice([0, 1, PAGE, r[field] + rnd.randint(-3, 3) * PAGE,
                                       rnd.getrandbits(64), rnd.getrandbits(24)]) % (1 << 64)
        records.append(r)
    for r, line in zip(records, check(driver, records)):
        if not line.startswith("ok "):
            assert line.startswith("error "), line
            continue
        first_free, mod_start, mod_size = [int(x) for x in line.split()[1:]]
        # What the entry then maps and hands on lies inside the domain, in order.
        assert first_free * PAGE > r["pt_base"] >= r["si_va"] >= r["kernel_end"], (r, line)
        assert (r["nr_pages"] - first_free) * PAGE >= MIN_FREE, (r, line)
        if mod_size:
            assert r["kernel_end"] <= mod_start and mod_start + mod_size <= r["mfn_list"], \
                (r, line)
