"""The full Cuis 5 image (Spur 32-bit, ../shared/images) headless: --eval with the
image's own compiler, and an unhandled error reported on stderr with status 1.

Each run uses a copy of the image and its .changes in a temporary folder, with
the .sources linked beside them, so that nothing the image writes reaches the
shared ones. Cuis was saved in a process that only snapshots: the VM resumes it
first, so its start-up (class cached state, the start-up list: Delay,
DisplayScreen on the null display, Cursor, InputSensor, ...) runs before --eval,
and Float printing and DateAndTime now work.

Runs untranslated by default, against $COGXEN_VM when set (see imagerun.py);
the file-in of a class definition is slow untranslated and runs only translated.
"""

import os
import shutil
import sys

import pytest

from imagerun import Run, find_image, translated_vm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


CHANGES = "Cuis5.0-3121-32.changes"
SOURCES = "CuisV5.sources"


def copy_image(tmpdir, original=None):
    image = str(tmpdir.join(IMAGE))
    shutil.copyfile(original or find_image(IMAGE), image)
    for name in (CHANGES, SOURCES):
        path = os.path.join(os.path.dirname(find_image(IMAGE)), name)
        if os.path.exists(path) and name == CHANGES:
            shutil.copyfile(path, str(tmpdir.join(name)))
        elif os.path.exists(path):
            os.symlink(path, str(tmpdir.join(name)))
    return image


def run_copy(tmpdir, expression, scripts=(), timeout=300, original=None):
    image = copy_image(tmpdir, original)
    return Run([image] + list(scripts) + ["--eval", expression], timeout=timeout).finish()


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


# After start-up: what needs Cuis's class cached state and start-up list.
AFTER_START_UP = ("{3.14159 printString. (2 raisedTo: 100) printString. "
                  "DateAndTime now yearNumber >= 2024. [:x | x * 2] value: 21. "
                  "[Error signal: 'boom'] on: Error do: [:e | e messageText]. "
                  "[nil foo] on: MessageNotUnderstood do: [:e | e message selector]. "
                  "Smalltalk calcEndianness. Display extent}")
AFTER_START_UP_ANSWER = ("#('3.14159' '1267650600228229401496703205376' true 42 'boom' "
                         "#foo #little 1024@768)\n")


def test_cuis_runs_its_start_up_before_the_evaluation(tmpdir):
    result = run_copy(tmpdir, AFTER_START_UP)
    assert (result.status, result.stdout, result.stderr) == \
        (0, AFTER_START_UP_ANSWER, ""), result.describe()


GREETER = """Object subclass: #CogxenGreeter
\tinstanceVariableNames: 'count'
\tclassVariableNames: ''
\tpoolDictionaries: ''
\tcategory: 'CogXen-Test'!

!CogxenGreeter methodsFor: 'greeting'!
greet: aName
\tcount := (count ifNil: [0]) + 1.
\t^'Hello, ', aName, '!! ', count printString! !
"""


@pytest.mark.skipif(not translated_vm(), reason="a class definition in Cuis takes "
                    "minutes untranslated; runs with COGXEN_VM")
def test_cuis_files_in_a_class_and_uses_it(tmpdir):
    script = tmpdir.join("greeter.st")
    script.write(GREETER)
    result = run_copy(tmpdir, "| g | g := CogxenGreeter new. g greet: 'a'. g greet: 'Cuis'",
                      scripts=[str(script)])
    assert (result.status, result.stdout, result.stderr) == \
        (0, "'Hello, Cuis! 2'\n", ""), result.describe()


def test_cuis_started_by_a_relative_path_knows_its_folder(tmpdir):
    # `cogxen Cuis.image` typed in the image's folder: Cuis builds its current
    # folder from the image's name, so that name must come absolute.
    copy_image(tmpdir)
    folder = os.path.realpath(str(tmpdir))
    result = Run([IMAGE, "--eval",
                  "{Smalltalk imageName. DirectoryEntry currentDirectory pathName}"],
                 cwd=folder, timeout=300).finish()
    expected = "#('%s/%s' '%s')\n" % (folder, IMAGE, folder)
    assert (result.status, result.stdout, result.stderr) == (0, expected, ""), \
        result.describe()


# --- Cuis converted to Spur 64-bit by tools/cogxen-image -------------------------
# The same image as 64-bit: 61-bit SmallIntegers, SmallFloat64s, the image's own
# compiler and start-up. Runs against the translated VM only (the conversion is
# host Python, 12 s, once per module; untranslated runs would add minutes).

def converted_copy(tmpdir_factory, folder, word_size=0, bytecodes=None):
    """Cuis converted by cogxen-image (host Python), for the translated VM only:
    untranslated whole-image runs of the copy would add minutes."""
    if not translated_vm():
        pytest.skip("needs COGXEN_VM: the original image shows the same code untranslated")
    sys.path.insert(0, REPO)
    from spyvm import imagetool
    path = str(tmpdir_factory.mktemp(folder).join(IMAGE))
    imagetool.convert(None, find_image(IMAGE), path, word_size, bytecodes)
    return path


@pytest.fixture(scope="module")
def cuis64(tmpdir_factory):
    return converted_copy(tmpdir_factory, "cuis64", word_size=8)


WORD_SIZE_64 = ("{Smalltalk wordSize. SmallInteger maxVal. (SmallInteger maxVal + 1) class. "
                "(SmallInteger maxVal + 1 - 1) class. SmallInteger minVal. "
                "(2 raisedTo: 62) * 3 // 3 = (2 raisedTo: 62). "
                "((2 raisedTo: 100) \\\\ (2 raisedTo: 61)) printString. "
                "1.5 class. (0.1 + 0.2 - 0.3) printString. 1.0e38 class. 1.0e300 class. "
                "(1 bitShift: 59) class. (1 bitShift: 60) class}")
WORD_SIZE_64_ANSWER = ("#(8 1152921504606846975 LargePositiveInteger SmallInteger "
                       "-1152921504606846976 true '0' SmallFloat64 '5.55111512312578e-17' "
                       "SmallFloat64 BoxedFloat64 SmallInteger LargePositiveInteger)\n")


def test_cuis64_knows_its_word_size(tmpdir, cuis64):
    result = run_copy(tmpdir, WORD_SIZE_64, original=cuis64)
    assert (result.status, result.stdout, result.stderr) == \
        (0, WORD_SIZE_64_ANSWER, ""), result.describe()


def test_cuis64_reports_an_unhandled_error(tmpdir, cuis64):
    result = run_copy(tmpdir, "nil foo", original=cuis64)
    assert result.status == 1 and result.stdout == "", result.describe()
    assert result.stderr.splitlines()[0] == "cogxen: error: MessageNotUnderstood: " \
        "UndefinedObject>>foo", result.describe()


# --- Cuis re-encoded in SistaV1 by tools/cogxen-image ----------------------------
# Every method of the image (its compiler, start-up, collections, exceptions)
# converted from V3PlusClosures to SistaV1, suspended processes' pcs moved: the
# same answers. --eval's own doit is compiled by the image (V3) and calls into
# SistaV1 code. Translated VM only, as the 64-bit copy above.

@pytest.fixture(scope="module")
def cuis_sista(tmpdir_factory):
    return converted_copy(tmpdir_factory, "cuis-sista", bytecodes="sistav1")


@pytest.mark.parametrize("expression,answer", [(EXPRESSION, ANSWER),
                                               (AFTER_START_UP, AFTER_START_UP_ANSWER)],
                         ids=["kinds-of-code", "after-start-up"])
@pytest.mark.parametrize("converted", ["cuis64", "cuis_sista"])
def test_converted_cuis_answers_as_the_original(tmpdir, request, converted, expression,
                                                answer):
    original = request.getfixturevalue(converted)
    result = run_copy(tmpdir, expression, original=original)
    assert (result.status, result.stdout, result.stderr) == (0, answer, ""), \
        result.describe()


def test_cuis_sista_methods_are_sista(tmpdir, cuis_sista):
    # The sign bit of the header selects SistaV1; a quick method converts too.
    result = run_copy(tmpdir, "{(Integer>>#factorial) header < 0. "
                              "(Object>>#yourself) header < 0. "
                              "(OrderedCollection>>#do:) header < 0}",
                      original=cuis_sista)
    assert (result.status, result.stdout, result.stderr) == \
        (0, "#(true true true)\n", ""), result.describe()


def test_cuis_sista_reports_an_unhandled_error(tmpdir, cuis_sista):
    result = run_copy(tmpdir, "1/0", original=cuis_sista)
    assert result.status == 1 and result.stdout == "", result.describe()
    lines = result.stderr.splitlines()
    assert lines[0] == "cogxen: error: ZeroDivide", result.describe()
    assert "    SmallInteger>>/" in lines, result.describe()
