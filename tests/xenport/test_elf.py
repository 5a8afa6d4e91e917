"""The kernel ELF itself: a static, self-contained PVH kernel.

No undefined symbols, no dynamic section or interpreter, no system-call
instruction (syscall, sysenter, int 0x80: there is no kernel under us), the Xen
PVH entry note where QEMU and Xen look for it, a TLS segment that matches what
tls.c sets up, and from musl's libc.a only the math members.
"""

import os
import re
import struct
import subprocess

import pytest


def tool(*argv):
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    assert proc.returncode == 0, "%s failed: %s" % (argv[0], err)
    return out.decode("latin-1")


def program_headers(path):
    """[(type, offset, vaddr, filesz, memsz, align)] from readelf -lW."""
    rows = []
    for line in tool("readelf", "-lW", path).splitlines():
        parts = line.split()
        if parts and parts[0] in ("LOAD", "NOTE", "TLS", "DYNAMIC", "INTERP", "GNU_STACK"):
            rows.append((parts[0], int(parts[1], 16), int(parts[2], 16), int(parts[4], 16),
                         int(parts[5], 16), int(parts[-1], 16)))
    return rows


def symbols(path):
    table = {}
    for line in tool("nm", path).splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[2]] = int(parts[0], 16)
    return table


def test_no_undefined_symbols(kernel):
    assert tool("nm", "-u", kernel).strip() == ""


def test_static_without_dynamic_section(kernel):
    assert "There is no dynamic section" in tool("readelf", "-d", kernel)
    types = [row[0] for row in program_headers(kernel)]
    assert "DYNAMIC" not in types and "INTERP" not in types
    assert "Type:                              EXEC" in tool("readelf", "-h", kernel)


SYSCALL_RE = re.compile(r"\t(syscall|sysenter|sysexit|sysret[lq]?)\b|\tint\s+\$0x80\b")


def test_no_system_call_instructions(kernel):
    hits = [line for line in tool("objdump", "-d", "--no-show-raw-insn", kernel).splitlines()
            if SYSCALL_RE.search(line)]
    assert hits == [], "\n".join(hits[:20])


def xen_notes(kernel):
    """The Xen ELF notes of the kernel: {type: descriptor bytes}."""
    rows = program_headers(kernel)
    notes = [row for row in rows if row[0] == "NOTE"]
    assert len(notes) == 1
    # QEMU rounds the note name up to p_align to find the descriptor: it must be 4.
    assert notes[0][5] == 4
    with open(kernel, "rb") as f:
        f.seek(notes[0][1])
        data = f.read(notes[0][3])
    found = {}
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack("<III", data[pos:pos + 12])
        name = data[pos + 12:pos + 12 + namesz]
        desc_at = pos + 12 + ((namesz + 3) & ~3)
        if name.rstrip(b"\0") == b"Xen":
            found[ntype] = data[desc_at:desc_at + descsz]
        pos = desc_at + ((descsz + 3) & ~3)
    return found


def address(desc):
    return struct.unpack("<Q" if len(desc) == 8 else "<I", desc)[0]


def test_pvh_entry_note(kernel):
    notes = xen_notes(kernel)
    assert 18 in notes, "no Xen PHYS32_ENTRY note"
    found = address(notes[18])
    assert found == symbols(kernel)["xp_pvh_start32"]
    # The entry is 32-bit code: it must lie below 4 GiB, in a loaded segment.
    rows = program_headers(kernel)
    assert any(r[0] == "LOAD" and r[2] <= found < r[2] + r[3] for r in rows)


def test_pv_entry_notes(kernel):
    """What Xen's domain builder needs to start the same ELF as a classic PV
    guest: the loader and ABI strings, virtual = physical, the 64-bit entry
    and a page for Xen to fill with hypercall stubs."""
    notes = xen_notes(kernel)
    sym = symbols(kernel)
    assert notes.get(8) == b"generic\0"                     # LOADER
    assert notes.get(5) == b"xen-3.0\0"                     # XEN_VERSION
    assert notes.get(6, b"").rstrip(b"\0")                  # GUEST_OS
    assert address(notes[3]) == 0                           # VIRT_BASE
    assert address(notes[4]) == 0                           # PADDR_OFFSET
    assert address(notes[1]) == sym["xp_pv_start"]          # ENTRY
    page = address(notes[2])                                # HYPERCALL_PAGE
    assert page == sym["xp_hypercall_page"] and page % 4096 == 0
    rows = program_headers(kernel)
    for a in (sym["xp_pv_start"], page):
        assert any(r[0] == "LOAD" and r[2] <= a < r[2] + r[3] for r in rows)


def test_tls_segment_matches_the_linker_symbols(kernel):
    """tls.c sizes the TLS block from linker symbols: they must describe PT_TLS."""
    tls = [row for row in program_headers(kernel) if row[0] == "TLS"]
    assert len(tls) == 1
    _, _, vaddr, filesz, memsz, align = tls[0]
    sym = symbols(kernel)
    assert sym["__tdata_start"] == vaddr
    assert sym["__tdata_end"] - sym["__tdata_start"] == filesz
    assert sym["__tbss_end"] - sym["__tdata_start"] == memsz
    assert sym["__tls_align"] == align


def math_names():
    """Function names musl's <math.h> and <fenv.h> declare."""
    names = set()
    for header in ("math.h", "fenv.h"):
        path = os.path.join("/usr/include/x86_64-linux-musl", header)
        if not os.path.exists(path):
            pytest.skip("musl-dev is not installed")
        with open(path) as f:
            names.update(re.findall(r"\b([a-z_][a-z0-9_]*)\s*\(", f.read()))
    return names


def test_only_math_from_musl(kernel):
    """Every member the link took from musl's libc.a defines only math: names
    declared in math.h/fenv.h or musl's internal __ helpers of them."""
    link_map = kernel + ".map"
    if not os.path.exists(link_map):
        pytest.skip("no link map next to the kernel")
    with open(link_map) as f:
        members = set(re.findall(r"libc\.a\(([^)]+)\)", f.read()))
    assert members, "expected some math from musl"
    allowed = math_names()
    defined = {}
    proc = subprocess.Popen(["nm", "-A", "--defined-only", "-g",
                             "/usr/lib/x86_64-linux-musl/libc.a"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.communicate()[0].decode("latin-1")
    for line in out.splitlines():       # libc.a:member.lo:0000000000000000 T name
        parts = line.split()
        if len(parts) == 3 and parts[0].count(":") >= 2:
            member = parts[0].split(":")[1]
            defined.setdefault(member, []).append(parts[2])
    bad = {}
    for member in sorted(members):
        wrong = [s for s in defined.get(member, [])
                 if s not in allowed and not s.startswith("__")]
        if wrong:
            bad[member] = wrong
    assert not bad, "non-math members pulled from musl: %r" % bad


def test_links_only_its_objects_musl_and_libgcc(kernel):
    """The link map's inputs: our objects, musl's libc.a (math), libgcc.a."""
    link_map = kernel + ".map"
    if not os.path.exists(link_map):
        pytest.skip("no link map next to the kernel")
    with open(link_map) as f:
        loaded = re.findall(r"^LOAD (\S+)", f.read(), re.M)
    assert loaded
    others = [p for p in loaded if not p.endswith(".o") and
              p != "/usr/lib/x86_64-linux-musl/libc.a" and
              not re.search(r"/gcc/.*/libgcc\.a$", p)]
    assert others == []
