"""The command line (spyvm/main.py): options, usage errors, --help, --version, --jit."""

import pytest

from spyvm import main


def test_parse_image_script_and_arguments():
    opts = main.parse_args(["cogxen", "x.image", "run.st", "a", "b"])
    assert (opts.image_path, opts.script_paths, opts.image_args) == \
        ("x.image", ["run.st"], ["a", "b"])


def test_parse_several_scripts_in_order():
    opts = main.parse_args(["cogxen", "x.image", "a.st", "b.st", "8080", "c.st"])
    assert (opts.script_paths, opts.image_args) == (["a.st", "b.st"], ["8080", "c.st"])


def test_parse_eval_and_jit():
    opts = main.parse_args(["cogxen", "--jit", "off", "--eval", "3 + 4", "x.image"])
    assert (opts.jit, opts.eval_expr, opts.has_eval) == ("off", "3 + 4", True)


def test_vm_options_are_kept_as_given():
    """The VM's own options, in order and with their values, wherever they stand:
    the image reads them as getSystemAttribute: -1, -2, ... (Pharo's isHeadless
    looks for --headless there). Image arguments and `--` are not among them."""
    opts = main.parse_args(["cogxen", "--headless", "--jit", "off", "x.image",
                            "--memory", "64M", "--", "--version", "a"])
    assert opts.vm_options == ["--headless", "--jit", "off", "--memory", "64M"]
    assert opts.image_args == ["--version", "a"]
    assert main.parse_args(["cogxen", "x.image", "a"]).vm_options == []


def test_parse_script_with_eval():
    # Both: the script is filed in first, then the expression (not ignored).
    opts = main.parse_args(["cogxen", "--eval", "Foo new", "x.image", "defs.st", "a"])
    assert (opts.script_paths, opts.eval_expr, opts.image_args) == \
        (["defs.st"], "Foo new", ["a"])


def test_run_files_in_the_script_before_the_eval(monkeypatch, tmpdir):
    from spyvm import headless
    done = []

    class FakeVM(object):
        def file_in(self, text):
            done.append(("file_in", text))

        def evaluate_and_print(self, source):
            done.append(("eval", source))
            return "42"

        def resume(self):
            done.append(("resume",))

    monkeypatch.setattr(headless, "load", lambda path, vm_path, args, options: FakeVM())
    io = Captured(monkeypatch)
    script = tmpdir.join("defs.st")
    script.write("Foo := 1!")
    opts = main.parse_args(["cogxen", "-e", "Foo", "x.image", str(script)])
    assert main.run(opts, "cogxen") == main.EXIT_OK
    assert done == [("file_in", "Foo := 1!"), ("eval", "Foo")]
    assert io.out == ["42\n"]
    del done[:]
    opts = main.parse_args(["cogxen", "x.image", str(script)])
    assert main.run(opts, "cogxen") == main.EXIT_OK
    assert done == [("file_in", "Foo := 1!")]
    del done[:]
    assert main.run(main.parse_args(["cogxen", "x.image"]), "cogxen") == main.EXIT_OK
    assert done == [("resume",)]


@pytest.mark.parametrize("argv, message", [
    (["cogxen"], "no image file given"),
    (["cogxen", "--jit"], "--jit needs an argument"),
    (["cogxen", "--eval"], "--eval needs an expression"),
    (["cogxen", "--frobnicate", "x.image"], "unknown option --frobnicate"),
])
def test_usage_errors(argv, message):
    with pytest.raises(main.UsageError) as info:
        main.parse_args(argv)
    assert info.value.message.startswith(message)


class Captured(object):
    def __init__(self, monkeypatch):
        self.out = []
        self.err = []
        monkeypatch.setattr(main.platform, "write_stdout", self.out.append)
        monkeypatch.setattr(main.platform, "write_stderr", self.err.append)


def test_help_and_version(monkeypatch):
    io = Captured(monkeypatch)
    assert main.main(["cogxen", "--help"]) == main.EXIT_OK
    assert "Usage: cogxen" in io.out[0] and "--jit ARG" in io.out[0]
    assert main.main(["cogxen", "--version"]) == main.EXIT_OK
    assert io.out[1].startswith("cogxen ") and "(untranslated)" in io.out[1]
    assert io.err == []


@pytest.mark.parametrize("arg", ["threshold=x", "nosuchparam=3", "threshold",
                                 "trace_limit=100000"])
def test_bad_jit_argument_is_a_usage_error(monkeypatch, arg):
    io = Captured(monkeypatch)
    assert main.main(["cogxen", "--jit", arg, "x.image"]) == main.EXIT_BAD_INPUT
    assert io.err[0] == "cogxen: bad --jit argument: %s\n" % arg
