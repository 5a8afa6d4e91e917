"""Files from Smalltalk: Squeak 2.2's StandardFileStream and FileDirectory on the
FilePlugin's numbered primitives (150-162), in a temporary folder. A failing file
primitive is the image's to answer (Squeak 2.2 then asks its user interactively,
which a test cannot answer, so the failing calls here are the primitives' own).

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import os

from imagerun import REPO, find_image, run_vm

COGXEN_ST = os.path.join(REPO, "images", "CogXen.st")

FILES_ST = os.path.join(REPO, "tests", "images", "data", "files.st")

# What files.st prints (a missing file and a file listed as a folder make the
# primitives fail, and the image's fallback code answers nil and #badDirectoryPath).
FILES_ST_OUTPUT = FILES_ST + ".out"


def test_a_file_written_read_renamed_and_deleted(tmpdir):
    work = tmpdir.mkdir("work")
    work.join("other.txt").write("x")
    script = tmpdir.join("files.st")
    with open(COGXEN_ST) as f, open(FILES_ST) as g:
        script.write(f.read() + "\n" + g.read().replace("FOLDER", str(work)))
    result = run_vm([find_image("mini.image"), str(script)], timeout=300, cwd=str(tmpdir))
    assert (result.status, result.stderr) == (0, ""), result.describe()
    with open(FILES_ST_OUTPUT) as f:
        assert result.stdout == f.read(), result.describe()
    assert sorted(os.listdir(str(work))) == ["other.txt"]


READ_STDIN = os.path.join(REPO, "tests", "images", "data", "read-stdin.st")


def test_standard_input_opened_as_dev_stdin(tmpdir):
    """An image reads its standard input as the file /dev/stdin (the same
    script reads the console in the guest: tests/xenport)."""
    script = tmpdir.join("read-stdin.st")
    with open(COGXEN_ST) as f, open(READ_STDIN) as g:
        script.write(f.read() + "\n" + g.read())
    result = run_vm([find_image("mini.image"), str(script)], timeout=300, cwd=str(tmpdir),
                    stdin=b"typed on the console\nnot read\n")
    assert (result.status, result.stderr) == (0, ""), result.describe()
    assert result.stdout == b"the console said: typed on the console\n", result.describe()
