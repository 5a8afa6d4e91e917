"""Files from Smalltalk: Squeak 2.2's StandardFileStream and FileDirectory on the
FilePlugin's numbered primitives (150-162), in a temporary folder. A failing file
primitive is the image's to answer (Squeak 2.2 then asks its user interactively,
which a test cannot answer, so the failing calls here are the primitives' own).

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import os

from imagerun import REPO, find_image, run_vm

COGXEN_ST = os.path.join(REPO, "images", "CogXen.st")

SCRIPT = """| f s d |
d := FileDirectory on: '%(dir)s'.
f := d newFileNamed: 'out.txt'.
f nextPutAll: 'hello from Squeak 2.2'; cr; nextPutAll: 'second line'.
f close.
f := d readOnlyFileNamed: 'out.txt'.
s := f upTo: Character cr.
CogXen stdout: s , '|' , f size printString , '|' , (f upTo: $x) , '|' , f atEnd printString , CogXen newline.
f close.
CogXen stdout: d fileAndDirectoryNames asSortedCollection asArray printString , CogXen newline.
d rename: 'out.txt' toBe: 'renamed.txt'.
CogXen stdout: (d fileExists: 'renamed.txt') printString , (d fileExists: 'out.txt') printString , CogXen newline.
d deleteFileNamed: 'renamed.txt'.
CogXen stdout: d fileAndDirectoryNames size printString , CogXen newline.
CogXen stdout: (StandardFileStream isAFileNamed: '%(dir)s/nothing-here') printString , CogXen newline.
CogXen stdout: (StandardFileStream new primOpen: '%(dir)s/nothing-here' writable: false) printString , CogXen newline.
CogXen stdout: (d primLookupEntryIn: '%(dir)s/other.txt' index: 1) printString , CogXen newline!
"""


def test_a_file_written_read_renamed_and_deleted(tmpdir):
    work = tmpdir.mkdir("work")
    work.join("other.txt").write("x")
    script = tmpdir.join("files.st")
    with open(COGXEN_ST) as f:
        script.write(f.read() + "\n" + SCRIPT % {"dir": str(work)})
    result = run_vm([find_image("mini.image"), str(script)], timeout=300, cwd=str(tmpdir))
    assert (result.status, result.stderr) == (0, ""), result.describe()
    lines = result.stdout.splitlines()
    # A missing file, a file listed as a folder: the primitives fail, and the
    # image's fallback code answers nil and #badDirectoryPath.
    assert lines == ["hello from Squeak 2.2|33|second line|true",
                     "('other.txt' 'out.txt' )",
                     "truefalse",
                     "1",
                     "false",
                     "nil",
                     "badDirectoryPath"], result.describe()
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
