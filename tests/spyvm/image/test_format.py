"""What the image readers and writers share (spyvm.image.format)."""

from spyvm.image.format import OopTable


def test_oop_table_finds_every_object_and_nothing_else():
    # Objects of 1 to 40 words, so that blocks hold none, one or many of them.
    base = 0x1000
    oops = []
    offset = 0
    for size in [1, 1, 2, 40, 3, 17, 1, 5, 33, 2]:
        oops.append(base + offset)
        offset += 4 * size
    table = OopTable(oops, base, offset)
    assert [table.find(oop) for oop in oops] == list(range(len(oops)))
    missing = set(range(base - 8, base + offset + 8)) - set(oops)
    assert set(table.find(oop) for oop in missing) == set([-1])



def test_oop_table_with_gaps():
    # Spur oops skip the gaps between segments and the overflow headers of big objects.
    base = 0x400000
    oops = [base, base + 16, base + 4096, base + 4104, base + 100000]
    table = OopTable(oops, base, 100008)
    assert [table.find(oop) for oop in oops] == [0, 1, 2, 3, 4]
    assert [table.find(base + d) for d in (8, 24, 4100, 50000, 100004, 100008)] == [-1] * 6
