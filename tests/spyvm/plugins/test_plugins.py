"""Every plugin registers its named primitives under the OpenSmalltalk VM's module and
primitive names, and each checks its argument count."""

import pytest

from spyvm import primitives
from spyvm.errors import PrimitiveFailed
from spyvm.plugins import cogxen

MISC = "MiscPrimitivePlugin"
COGXEN = "CogXenPlugin"

NAMED_ARITIES = {
    (MISC, "primitiveCompareString"): 3,
    (MISC, "primitiveIndexOfAsciiInString"): 3,
    (MISC, "primitiveFindFirstInString"): 3,
    (MISC, "primitiveStringHash"): 2,
    (MISC, "primitiveTranslateStringWithTable"): 4,
    (MISC, "primitiveFindSubstring"): 4,
    ("ConsolePlugin", "primitiveLog:level:"): 2,
    (COGXEN, "primitiveWriteStdout"): 1,
    (COGXEN, "primitiveWriteStderr"): 1,
    (COGXEN, "primitiveExit"): 1,
}


def test_all_named_primitives_registered():
    for module, name in NAMED_ARITIES:
        assert primitives.lookup_named(module, name) is not None, name
    assert primitives._TABLE[cogxen.PRIM_WRITE_STDOUT] is not None
    assert primitives._TABLE[cogxen.PRIM_WRITE_STDERR] is not None
    assert primitives._TABLE[cogxen.PRIM_EXIT] is not None
    assert primitives.lookup_named(MISC, "primitiveNoSuchThing") is None
    assert primitives.lookup_named("NoSuchPlugin", "primitiveStringHash") is None


@pytest.mark.parametrize("key", sorted(NAMED_ARITIES))
def test_wrong_argument_count_fails(env, run_primitive, key):
    fn = primitives.lookup_named(*key)
    nargs = NAMED_ARITIES[key]
    for count in [nargs - 1, nargs + 1]:
        with pytest.raises(PrimitiveFailed):
            run_primitive(env.space, fn, env.nil, [env.string("abc")] * count,
                          interp=env.interp)
