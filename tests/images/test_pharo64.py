"""Pharo 8 (pharo8-bootstrap64.image, Spur 64-bit): the image's own start-up.

Resumed, the fresh bootstrap image runs PharoBootstrapInitialization (Delay's
timer process through primitive 242, the platform by vmParameterAt: 40, ...) and
ends with `Smalltalk snapshot: true andQuit: true`: it saves itself, in its own
format, and quits with status 0. Runs on a copy (about 80 s untranslated), and
on a copy converted to Spur 32-bit by cogxen-image (SmallFloat64s boxed,
SmallIntegers past 31 bits made LargeIntegers): the same start-up, saved 32-bit.

The saved copy, resumed, goes on after its snapshot: the session's start-up list
(Stdio by primitiveFileDescriptorType, ...), then the command-line handler.
With `--headless` among the VM's options (getSystemAttribute: -1, where Pharo's
isHeadless looks) and no argument it writes its help (the class comment: this
image has no sources, so Pharo's blank comment template) on stderr and exits 0;
`-- --version` writes the image's version and the VM's (attributes 1007, 1009).
Without --headless it believes it has a display and waits for it, as a Pharo VM
with a window would. About 12 s per resume untranslated.
"""

import hashlib
import os
import resource
import shutil
import sys

import pytest

from imagerun import find_image, run_vm, translated_vm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def needs_translated_for_32_bits(word_size):
    if word_size == 4 and not translated_vm():
        pytest.skip("needs COGXEN_VM: the 64-bit case shows the same start-up "
                    "untranslated, and a minute is enough")


class Saved(object):
    """A copy of the bootstrap image and what its own start-up saved over it."""

    def __init__(self, folder, image, objects_before, digest_before, result):
        self.folder = folder
        self.image = image
        self.objects_before = objects_before
        self.digest_before = digest_before
        self.result = result


@pytest.fixture(scope="module", params=[8, 4])
def saved(request, tmpdir_factory):
    """The start-up run once per word size; each test resumes its own copy."""
    word_size = request.param
    needs_translated_for_32_bits(word_size)
    sys.path.insert(0, REPO)
    from spyvm import imagetool
    from spyvm.image.reader import read_image
    folder = str(tmpdir_factory.mktemp("pharo%d" % (word_size * 8)))
    image = os.path.join(folder, "Pharo.image")
    if word_size == 8:
        shutil.copyfile(find_image("pharo8-bootstrap64.image"), image)
    else:
        imagetool.convert(None, find_image("pharo8-bootstrap64.image"), image, 4)
    os.chmod(image, 0o644)
    objects = len(read_image(open(image, "rb").read()).objects_w)
    with open(image, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()
    result = run_vm([image], timeout=600 if translated_vm() is None else 60)
    saved = Saved(folder, image, objects, before, result)
    saved.word_size = word_size
    return saved


def test_bootstrap_initialization_saves_and_quits(saved):
    from spyvm import constants
    from spyvm.image.reader import read_image
    result = saved.result
    assert not result.timed_out and result.status == 0, result.describe()
    assert "Traceback" not in result.stderr, result.describe()
    with open(saved.image, "rb") as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() != saved.digest_before
    assert os.listdir(saved.folder) == ["Pharo.image"]
    image = read_image(data)
    assert image.version == (constants.FORMAT_SPUR_64 if saved.word_size == 8
                             else constants.FORMAT_SPUR_32)
    # The start-up made objects (the session, the stdio streams...) and kept them.
    assert len(image.objects_w) > saved.objects_before


def resume(saved, tmpdir, args):
    """Resume a copy of the saved image with the VM's options and image arguments
    in args (the image's place marked by IMAGE); answer the run and the copy."""
    assert saved.result.status == 0, saved.result.describe()
    folder = str(tmpdir.mkdir("resumed"))
    image = os.path.join(folder, "Pharo.image")
    shutil.copyfile(saved.image, image)
    argv = [image if arg == "IMAGE" else arg for arg in args]
    result = run_vm(argv, timeout=300 if translated_vm() is None else 20)
    return result, folder, image


def assert_clean_exit(result, folder, image, saved):
    assert not result.timed_out and result.status == 0, result.describe()
    for word in ("Error", "Traceback", "cogxen:", "doesNotUnderstand",
                 "PrimitiveFailed", "MessageNotUnderstood"):
        assert word not in result.stdout + result.stderr, result.describe()
    # Nothing saved, nothing logged (an error would write PharoDebug.log here).
    assert os.listdir(folder) == ["Pharo.image"]
    with open(image, "rb") as f, open(saved.image, "rb") as g:
        assert f.read() == g.read()


def test_saved_copy_resumes_headless_and_prints_its_help(saved, tmpdir):
    result, folder, image = resume(saved, tmpdir, ["--headless", "IMAGE"])
    assert_clean_exit(result, folder, image, saved)
    assert result.stdout == ""
    # BasicCommandLineHandler's help is its class comment; with no sources file
    # the image answers its blank template, written on stderr with one lf.
    assert result.stderr.startswith("Please comment me using the following template"), \
        result.describe()
    assert result.stderr.endswith("\n")
    assert "Public API and Key Messages" in result.stderr


def test_saved_copy_answers_its_version(saved, tmpdir):
    result, folder, image = resume(saved, tmpdir,
                                   ["--headless", "IMAGE", "--", "--version"])
    assert_clean_exit(result, folder, image, saved)
    # Pharo's stdout driver writes `cr` as its termcap entry: ESC [ and a CR, which
    # its line-end writer turns into an LF.
    lines = result.stdout.replace("\x1b[", "").split("\n")
    assert lines[0].startswith("Image: Pharo-8.0.0+build."), result.describe()
    assert lines[0].endswith("(%d Bit)" % (saved.word_size * 8)), result.describe()
    # VirtualMachine>>version: the interpreter (1007), then the sources (1009).
    assert lines[1] == "VM:    CogXen Interpreter " + vm_version()
    assert lines[2] == "VM: CogXen " + vm_version()
    assert lines[3:] == ["", ""]
    assert result.stderr == ""


def vm_version():
    sys.path.insert(0, REPO)
    from spyvm import version
    return version.VERSION


def test_saved_copy_without_headless_waits_for_its_display(saved, tmpdir):
    """No --headless among the VM's options: Pharo believes it has a display, so its
    command-line handler does not quit (noQuit) and the image waits, quietly, as a
    Pharo VM with a window would. Translated only: untranslated, 5 s is still
    inside the start-up."""
    if not translated_vm():
        pytest.skip("needs COGXEN_VM: the start-up alone takes 12 s untranslated")
    assert saved.result.status == 0, saved.result.describe()
    folder = str(tmpdir.mkdir("resumed"))
    image = os.path.join(folder, "Pharo.image")
    shutil.copyfile(saved.image, image)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_vm([image], timeout=5)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.timed_out, result.describe()
    assert result.stdout == "" and result.stderr == "", result.describe()
    # Waiting, not spinning (an error loop in the image would use the 5 s).
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu < 1.0, "%.1f s of CPU in 5 s" % cpu
    assert os.listdir(folder) == ["Pharo.image"]
