"""Today's images in the guest (build/cogxen.xen under QEMU): the full Cuis 5
(Spur 32-bit, and the same image converted to 64-bit by tools/cogxen-image),
tp-location-app (SistaV1, full blocks) and the Pharo 8 bootstrap (Spur 64-bit).

The boot archive holds the image with its .changes and .sources where it has
them; the expressions and answers are the hosted tests' (tests/images/), so the
guest must answer as the hosted VM does.
"""

import os
import sys

import pytest

from qemurun import REPO, command_line, cpio_archive, images_dir, require_qemu, run_kernel

sys.path.insert(0, os.path.join(REPO, "tests", "images"))
import test_cuis  # noqa: E402  (the hosted Cuis tests' expressions and answers)
import test_sista_image  # noqa: E402


@pytest.fixture(autouse=True)
def _qemu():
    require_qemu()


def image_bytes(name):
    path = os.path.join(images_dir(), name)
    if not os.path.isfile(path):
        pytest.skip("%s not found in %s" % (name, images_dir()))
    with open(path, "rb") as f:
        return f.read()


def cuis_archive(image):
    return cpio_archive([(test_cuis.IMAGE, image),
                         (test_cuis.CHANGES, image_bytes(test_cuis.CHANGES)),
                         (test_cuis.SOURCES, image_bytes(test_cuis.SOURCES))])


@pytest.fixture(scope="module")
def cuis64(tmpdir_factory):
    sys.path.insert(0, REPO)
    from spyvm import imagetool
    image_bytes(test_cuis.IMAGE)
    path = str(tmpdir_factory.mktemp("cuis64").join(test_cuis.IMAGE))
    imagetool.convert(None, os.path.join(images_dir(), test_cuis.IMAGE), path, 8)
    with open(path, "rb") as f:
        return f.read()


CUIS_CASES = [(test_cuis.EXPRESSION, test_cuis.ANSWER),
              (test_cuis.AFTER_START_UP, test_cuis.AFTER_START_UP_ANSWER)]


@pytest.mark.parametrize("expression,answer", CUIS_CASES,
                         ids=["kinds-of-code", "after-start-up"])
def test_cuis_in_the_guest(kernel, expression, answer):
    r = run_kernel(kernel, cuis_archive(image_bytes(test_cuis.IMAGE)),
                   command_line(["--eval", expression]), timeout=180)
    assert not r.timed_out and (r.status, r.stdout, r.stderr) == (0, answer, ""), \
        r.describe()


@pytest.mark.parametrize("expression,answer",
                         CUIS_CASES + [(test_cuis.WORD_SIZE_64,
                                        test_cuis.WORD_SIZE_64_ANSWER)],
                         ids=["kinds-of-code", "after-start-up", "word-size"])
def test_cuis64_in_the_guest(kernel, cuis64, expression, answer):
    r = run_kernel(kernel, cuis_archive(cuis64), command_line(["--eval", expression]),
                   timeout=180)
    assert not r.timed_out and (r.status, r.stdout, r.stderr) == (0, answer, ""), \
        r.describe()


def test_cuis_error_in_the_guest(kernel):
    r = run_kernel(kernel, cuis_archive(image_bytes(test_cuis.IMAGE)),
                   command_line(["--eval", "1/0"]), timeout=180)
    assert not r.timed_out and r.status == 1 and r.stdout == "", r.describe()
    assert r.stderr.splitlines()[0] == "cogxen: error: ZeroDivide", r.describe()


def test_tp_location_app_in_the_guest(kernel):
    r = run_kernel(kernel, image_bytes("tp-location-app.image"), "", timeout=180)
    assert not r.timed_out and r.status == 1, r.describe()
    position = 0
    for line in test_sista_image.STARTUP:
        assert line in r.stdout[position:], r.describe()
        position = r.stdout.index(line, position)
    assert test_sista_image.WEBSOCKET_FAILURE in r.stderr, r.describe()
    assert r.stderr.endswith("cogxen: fatal: " + test_sista_image.DEADLOCK + "\n"), \
        r.describe()


def test_pharo_bootstrap_start_up_in_the_guest(kernel):
    # Its start-up ends with `snapshot: true andQuit: true`. Guest files are RAM
    # that cannot be made durable, so the save fails; Pharo carries on as it does
    # on a full disk (the primitive's failure is its own to handle) and quits.
    r = run_kernel(kernel, image_bytes("pharo8-bootstrap64.image"), "", timeout=180)
    assert not r.timed_out and (r.status, r.stdout, r.stderr) == (0, "", ""), \
        r.describe()
