"""MiscPrimitivePlugin: compare, index, find, hash, translate and find substring."""

import pytest

from spyvm.model import W_SmallInteger

MISC = "MiscPrimitivePlugin"


def i(n):
    return W_SmallInteger(n)


def identity_table(env):
    return env.string("".join(chr(n) for n in range(256)))


def case_folding_table(env):
    """Upper-case letters collate (and match) as their lower-case ones."""
    return env.string("".join(chr(n).lower() for n in range(256)))


def upcase_table(env):
    return env.string("".join(chr(n).upper() for n in range(256)))


# --- compare:with:collated: ---------------------------------------------------------

@pytest.mark.parametrize("s1, s2, expected", [
    ("abc", "abd", 1), ("abd", "abc", 3), ("abc", "abc", 2), ("", "", 2),
    ("ab", "abc", 1), ("abc", "ab", 3), ("", "a", 1), ("b", "a", 3),
    ("\xff", "\x00", 3),
])
def test_compare_string(env, s1, s2, expected):
    w_result = env.call_named(MISC, "primitiveCompareString", env.space.w_String,
                              env.string(s1), env.string(s2), identity_table(env))
    assert w_result.value == expected


def test_compare_string_uses_the_order(env):
    order = case_folding_table(env)
    w_cmp = lambda a, b: env.call_named(MISC, "primitiveCompareString", env.nil,
                                        env.string(a), env.string(b), order).value
    assert w_cmp("ABC", "abc") == 2
    assert w_cmp("Zebra", "apple") == 3     # 'z' > 'a' once folded
    reverse = env.string("".join(chr(255 - n) for n in range(256)))
    assert env.call_named(MISC, "primitiveCompareString", env.nil, env.string("a"),
                          env.string("b"), reverse).value == 3


def test_compare_string_bytearrays(env):
    w_result = env.call_named(MISC, "primitiveCompareString", env.nil, env.bytearray("a"),
                              env.bytearray("a"), identity_table(env))
    assert w_result.value == 2


def test_compare_string_failures(env):
    order = identity_table(env)
    short_order = env.string("\x00" * 255)
    f = lambda *args: env.named_fails(MISC, "primitiveCompareString", env.nil, *args)
    f(env.string("a"), env.string("b"), short_order)
    f(env.array(), env.string("b"), order)
    f(env.string("a"), i(3), order)
    f(env.string("a"), env.string("b"), env.nil)
    f(env.string("a"), env.string("b"), env.array(*[i(0)] * 256))


# --- indexOfAscii:inString:startingAt: ----------------------------------------------

@pytest.mark.parametrize("code, s, start, expected", [
    (97, "banana", 1, 2), (97, "banana", 2, 2), (97, "banana", 3, 4),
    (97, "banana", 7, 0), (97, "banana", 100, 0), (122, "banana", 1, 0),
    (98, "banana", 1, 1), (0, "ab\x00", 1, 3), (97, "", 1, 0), (300, "banana", 1, 0),
    (97, "banana", 0, 2), (98, "banana", -5, 1), (58, "", 0, 0),
])
def test_index_of_ascii(env, code, s, start, expected):
    w_result = env.call_named(MISC, "primitiveIndexOfAsciiInString", env.nil,
                              i(code), env.string(s), i(start))
    assert w_result.value == expected


def test_index_of_ascii_failures(env):
    f = lambda *args: env.named_fails(MISC, "primitiveIndexOfAsciiInString", env.nil, *args)
    f(env.nil, env.string("banana"), i(1))
    f(env.char(97), env.string("banana"), i(1))
    f(i(97), env.array(i(97)), i(1))
    f(i(97), env.string("banana"), env.nil)


# --- findFirstInString:inSet:startingAt: --------------------------------------------

def inclusion_map(env, chars, size=256):
    flags = "".join("\x01" if chr(n) in chars else "\x00" for n in range(256))
    return env.bytearray((flags + "\x00" * size)[:size])


@pytest.mark.parametrize("s, chars, start, expected", [
    ("banana", "n", 1, 3), ("banana", "n", 4, 5), ("banana", "n", 6, 0),
    ("banana", "xyz", 1, 0), ("banana", "ab", 1, 1), ("banana", "a", 2, 2),
    ("", "a", 1, 0), ("banana", "n", 50, 0),
])
def test_find_first_in_string(env, s, chars, start, expected):
    w_result = env.call_named(MISC, "primitiveFindFirstInString", env.nil,
                              env.string(s), inclusion_map(env, chars), i(start))
    assert w_result.value == expected


def test_find_first_in_string_failures(env):
    f = lambda *args: env.named_fails(MISC, "primitiveFindFirstInString", env.nil, *args)
    f(env.string("banana"), inclusion_map(env, "n", 255), i(1))
    f(env.string("banana"), inclusion_map(env, "n", 257), i(1))
    f(env.string("banana"), inclusion_map(env, "n"), i(0))
    f(env.string("banana"), inclusion_map(env, "n"), env.nil)
    f(env.array(), inclusion_map(env, "n"), i(1))
    f(env.string("banana"), env.array(*[i(0)] * 256), i(1))


# --- stringHash:initialHash: --------------------------------------------------------

def reference_string_hash(s, initial):
    """From the definition: hash := initial bitAnd: 16r0FFFFFFF; for each byte,
    hash := (hash + byte) hashMultiply, where hashMultiply is multiplication by
    1664525 modulo 2^28."""
    h = initial & 0x0fffffff
    for c in s:
        h = ((h + ord(c)) * 1664525) % (1 << 28)
    return h


@pytest.mark.parametrize("s, initial", [
    ("", 0), ("", 12345), ("a", 0), ("abc", 0), ("hello world", 0),
    ("\xff" * 40, 0), ("Symbol", 0x0fffffff), ("x", 0x7fffffff), ("zz", 1 << 29),
    ("ByteString", 2 ** 30 - 1),
])
def test_string_hash(env, s, initial):
    w_result = env.call_named(MISC, "primitiveStringHash", env.space.w_String,
                              env.string(s), i(initial))
    assert isinstance(w_result, W_SmallInteger)
    assert w_result.value == reference_string_hash(s, initial)


def test_string_hash_known_values(env):
    h = lambda s, init: env.call_named(MISC, "primitiveStringHash", env.nil,
                                       env.string(s), i(init)).value
    assert h("", 0) == 0
    assert h("", 7) == 7
    assert h("a", 0) == (97 * 1664525) & 0x0fffffff
    assert h("ab", 0) == ((((97 * 1664525) & 0x0fffffff) + 98) * 1664525) & 0x0fffffff
    assert h("abc", 0) != h("acb", 0)


def test_string_hash_failures(env):
    f = lambda *args: env.named_fails(MISC, "primitiveStringHash", env.nil, *args)
    f(env.string("abc"), env.nil)
    f(env.string("abc"), env.string("0"))
    f(env.array(), i(0))
    f(i(3), i(0))


# --- translate:from:to:table: -------------------------------------------------------

def test_translate(env):
    w_str = env.string("hello")
    w_rcvr = env.space.w_String
    w_result = env.call_named(MISC, "primitiveTranslateStringWithTable", w_rcvr,
                              w_str, i(2), i(4), upcase_table(env))
    assert w_result is w_rcvr
    assert w_str.as_string() == "hELLo"
    env.call_named(MISC, "primitiveTranslateStringWithTable", w_rcvr,
                   w_str, i(1), i(5), case_folding_table(env))
    assert w_str.as_string() == "hello"


def test_translate_empty_range(env):
    w_str = env.string("hello")
    env.call_named(MISC, "primitiveTranslateStringWithTable", env.nil,
                   w_str, i(4), i(3), upcase_table(env))
    assert w_str.as_string() == "hello"


def test_translate_failures(env):
    w_str = env.string("hello")
    f = lambda *args: env.named_fails(MISC, "primitiveTranslateStringWithTable",
                                      env.nil, *args)
    table = upcase_table(env)
    f(w_str, i(0), i(3), table)
    f(w_str, i(1), i(6), table)
    f(w_str, i(1), i(3), env.string("A" * 255))
    f(w_str, env.nil, i(3), table)
    f(w_str, i(1), env.nil, table)
    f(env.array(i(1)), i(1), i(1), table)
    f(w_str, i(1), i(3), env.array(*[i(0)] * 256))
    assert w_str.as_string() == "hello"


# --- findSubstring:in:startingAt:matchTable: ----------------------------------------

@pytest.mark.parametrize("key, body, start, expected", [
    ("lo", "hello world", 1, 4), ("lo", "hello world", 4, 4), ("lo", "hello world", 5, 0),
    ("o", "hello world", 6, 8), ("hello world", "hello world", 1, 1),
    ("hello world!", "hello world", 1, 0), ("", "hello", 1, 0), ("x", "", 1, 0),
    ("d", "hello world", 11, 11), ("l", "hello world", 0, 3), ("l", "hello world", -5, 3),
    ("l", "hello world", 12, 0),
])
def test_find_substring(env, key, body, start, expected):
    w_result = env.call_named(MISC, "primitiveFindSubstring", env.nil, env.string(key),
                              env.string(body), i(start), identity_table(env))
    assert w_result.value == expected


def test_find_substring_uses_the_match_table(env):
    find = lambda key, body, table: env.call_named(
        MISC, "primitiveFindSubstring", env.nil, env.string(key), env.string(body), i(1),
        table).value
    assert find("WORLD", "hello world", identity_table(env)) == 0
    assert find("WORLD", "hello world", case_folding_table(env)) == 7


def test_find_substring_failures(env):
    f = lambda *args: env.named_fails(MISC, "primitiveFindSubstring", env.nil, *args)
    table = identity_table(env)
    f(env.string("lo"), env.string("hello"), i(1), env.string("x" * 255))
    f(env.string("lo"), env.string("hello"), env.nil, table)
    f(env.array(), env.string("hello"), i(1), table)
    f(env.string("lo"), env.array(), i(1), table)
    f(env.string("lo"), env.string("hello"), i(1), env.nil)
