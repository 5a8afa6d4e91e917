"""The full Cuis 5 image (Spur 32-bit, ../shared/images) headless: --eval with the
image's own compiler, and an unhandled error reported on stderr with status 1.

Each run uses a copy of the image in a temporary folder, so that nothing the image
writes reaches the shared one. The image's start-up list is not run before --eval
(as for every image: only Delay's start-up), so what needs Cuis's class cached
state (Float printing, DateAndTime now) is not asked here.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py).
"""

import shutil

from imagerun import Run, find_image

IMAGE = "Cuis5.0-3121-32.image"

# One run for several kinds of code: untranslated, Cuis takes about 10 s to answer.
EXPRESSION = ("| r | r := 0. {3 + 4. (2 raisedTo: 64) + 1. 100 factorial printString size. "
              "#(3 1 2) asSortedCollection asArray. 'hello' reversed. "
              "[1/0] on: ZeroDivide do: [:ex | ex return: 42]. "
              "[r := 1] ensure: [r := r + 10]. r. "
              "#(1 2 3) detect: [:x | x > 1]. "
              "(1 to: 10) inject: 0 into: [:a :b | a + b]. "
              "(Dictionary new at: #a put: 1; yourself) size. Smalltalk version}")
ANSWER = ("#(7 18446744073709551617 158 #(1 2 3) 'olleh' 42 1 11 2 55 1 'Cuis 5.0')\n")


def run_copy(tmpdir, expression):
    image = str(tmpdir.join(IMAGE))
    shutil.copyfile(find_image(IMAGE), image)
    return Run([image, "--eval", expression], timeout=180).finish()


def test_cuis_evaluates_with_its_own_compiler(tmpdir):
    result = run_copy(tmpdir, EXPRESSION)
    assert (result.status, result.stdout, result.stderr) == (0, ANSWER, ""), \
        result.describe()


def test_cuis_reports_an_unhandled_error(tmpdir):
    result = run_copy(tmpdir, "1/0")
    assert result.status == 1, result.describe()
    assert result.stdout == "", result.describe()
    lines = result.stderr.splitlines()
    assert lines[0] == "cogxen: error: ZeroDivide", result.describe()
    assert "    SmallInteger>>/" in lines, result.describe()
