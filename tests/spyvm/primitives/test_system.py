"""System primitives: quit, clocks, the timer semaphore, VM queries, headless I/O stubs,
the special objects array and the external call (117) dispatch to named primitives."""

import time

import pytest

from spyvm import constants
from spyvm.errors import Exit, VMFatal
from spyvm.model import W_PointersObject, W_SmallInteger, W_BytesObject
from spyvm.primitives import system, table, _TABLE

table()   # registers every primitive and plugin

SQUEAK_EPOCH_OFFSET = 2177452800     # 1901-01-01 to 1970-01-01, computed independently:
assert SQUEAK_EPOCH_OFFSET == (69 * 365 + 17) * 86400


def i(n):
    return W_SmallInteger(n)


def int_value(space, w_int):
    return space.unwrap_bigint(w_int).tolong()


# --- registration and argument counts -----------------------------------------------

SIMPLE_ARITIES = {97: 0, 112: 0, 114: 0, 121: 0, 124: 1, 125: 1,
                  129: 0, 130: 0, 131: 0, 135: 0, 136: 2, 137: 0, 142: 0,
                  149: 1, 230: 1, 240: 0, 241: 0, 242: 2}


def test_all_system_primitives_registered():
    for number in list(SIMPLE_ARITIES) + [113, 117, 254]:
        assert _TABLE[number] is not None, number


@pytest.mark.parametrize("number", sorted(SIMPLE_ARITIES))
def test_wrong_argument_count_fails(env, number):
    nargs = SIMPLE_ARITIES[number]
    w_rcvr = env.array(i(0))
    env.run_fails(number, w_rcvr, [i(1)] * (nargs + 1))
    if nargs > 0 and number != 230:         # 230 also takes none (SqueakJS's form)
        env.run_fails(number, w_rcvr, [i(1)] * (nargs - 1))


# --- quit (113) ---------------------------------------------------------------------

def test_quit_without_status(env):
    with pytest.raises(Exit) as info:
        env.run(113, env.nil, [])
    assert info.value.status == 0


@pytest.mark.parametrize("status", [0, 3, 255, -1])
def test_quit_with_status(env, status):
    with pytest.raises(Exit) as info:
        env.run(113, env.nil, [i(status)])
    assert info.value.status == status


def test_quit_failures(env):
    env.run_fails(113, env.nil, [env.nil])
    env.run_fails(113, env.nil, [env.string("3")])
    env.run_fails(113, env.nil, [env.space.wrap_float(1.0)])
    env.run_fails(113, env.nil, [i(1), i(2)])


# --- clocks (135, 137, 240, 241) ----------------------------------------------------

def test_millisecond_clock_increases(env):
    w_first = env.call(135, env.nil)
    assert isinstance(w_first, W_SmallInteger) and w_first.value >= 0
    time.sleep(0.02)
    w_second = env.call(135, env.nil)
    assert isinstance(w_second, W_SmallInteger)
    assert w_second.value >= w_first.value + 10
    assert w_second.value <= w_first.value + 5000


def test_seconds_clock_squeak_epoch(env):
    w_secs = env.call(137, env.nil)
    secs = int_value(env.space, w_secs)
    assert secs > 3.7e9
    assert abs(secs - (time.time() + SQUEAK_EPOCH_OFFSET)) < 5
    # 32-bit V3: that does not fit a SmallInteger
    assert w_secs.getclass(env.space) is env.space.w_LargePositiveInteger


@pytest.mark.parametrize("number", [240, 241])
def test_microsecond_clock(env, number):
    usecs1 = int_value(env.space, env.call(number, env.nil))
    expected = (time.time() + SQUEAK_EPOCH_OFFSET) * 1e6
    assert usecs1 > 3.7e15
    assert abs(usecs1 - expected) < 5e6
    time.sleep(0.002)
    usecs2 = int_value(env.space, env.call(number, env.nil))
    assert usecs2 > usecs1


# --- timer semaphore (136) ----------------------------------------------------------

def _timer_semaphore(env):
    return env.space.special(constants.SO_TIMER_SEMAPHORE)


def _semaphore(env):
    return env.obj(env.space.w_Semaphore, env.nil, env.nil, i(0))


def test_signal_at_milliseconds(env):
    interp = env.interp
    w_sema = _semaphore(env)
    now_ms = interp.millisecond_clock()
    before = interp.now_usecs()
    w_rcvr = env.string("Delay")
    assert env.call(136, w_rcvr, w_sema, i(now_ms + 1000)) is w_rcvr
    assert _timer_semaphore(env) is w_sema
    assert before + 900000 <= interp.next_wakeup_usecs <= interp.now_usecs() + 1100000


def test_signal_at_milliseconds_in_the_past(env):
    interp = env.interp
    w_sema = _semaphore(env)
    env.call(136, env.nil, w_sema, i(0))
    assert _timer_semaphore(env) is w_sema
    assert 0 < interp.next_wakeup_usecs <= interp.now_usecs()


def test_signal_at_milliseconds_nil_clears(env):
    interp = env.interp
    env.call(136, env.nil, _semaphore(env), i(interp.millisecond_clock() + 500))
    assert interp.next_wakeup_usecs != 0
    env.call(136, env.nil, env.nil, i(0))
    assert _timer_semaphore(env) is env.nil
    assert interp.next_wakeup_usecs == 0


def test_signal_at_milliseconds_failures(env):
    interp = env.interp
    w_sema = _semaphore(env)
    for w_bad in [env.nil, env.space.wrap_float(1.0), env.string("1")]:
        env.fails(136, env.nil, w_sema, w_bad)
    assert _timer_semaphore(env) is env.nil
    assert interp.next_wakeup_usecs == 0


def test_signal_at_utc_microseconds(env):
    # Pharo's DelayMicrosecondTicker: the time in primitive 240's clock, a
    # LargePositiveInteger in 32- and 64-bit images alike.
    interp = env.interp
    space = env.space
    w_sema = _semaphore(env)
    w_now = env.call(240, env.nil)
    now = space.unwrap_int(w_now)
    before = interp.now_usecs()
    assert env.call(242, env.nil, w_sema, space.wrap_int(now + 2000000)) is env.nil
    assert _timer_semaphore(env) is w_sema
    assert before + 1500000 <= interp.next_wakeup_usecs <= interp.now_usecs() + 2100000
    env.call(242, env.nil, w_sema, space.wrap_int(now - 5000000))
    assert 0 < interp.next_wakeup_usecs <= interp.now_usecs()
    env.call(242, env.nil, env.nil, space.wrap_int(now))
    assert _timer_semaphore(env) is env.nil and interp.next_wakeup_usecs == 0
    for w_bad in [env.nil, space.wrap_float(1.0), env.string("1")]:
        env.fails(242, env.nil, w_sema, w_bad)


def test_vm_parameter_at_put(env):
    # Pharo's WorkingSession>>start: sets GC parameters (tenuringThreshold: is 6).
    assert env.call(254, env.nil, i(6), i(2000)).value == 0
    assert env.call(254, env.nil, i(40), i(8)).value == env.space.word_size
    env.fails(254, env.nil, i(6), env.nil)
    env.fails(254, env.nil, i(0), i(1))
    env.fails(254, env.nil, i(81), i(1))
    env.fails(254, env.nil, env.nil, i(1))
    env.fails(254, env.nil)
    env.fails(254, env.nil, i(1), i(1), i(1))


def test_vm_parameter_word_size(env):
    assert env.call(254, env.nil, i(40)).value == env.space.word_size
    env.space.word_size = 8         # as read from a Spur 64-bit image
    try:
        assert env.call(254, env.nil, i(40)).value == 8
    finally:
        env.space.word_size = 4


def test_timer_semaphore_is_signalled_when_due(env):
    interp = env.interp
    w_sema = _semaphore(env)
    env.call(136, env.nil, w_sema, i(0))
    ctx = env.context(method=env.method("\x70\x7c"), pc=0)
    assert interp.check_interrupts(ctx) is ctx
    assert w_sema.slots[constants.SEMAPHORE_EXCESS_SIGNALS].value == 1
    assert interp.next_wakeup_usecs == 0


# --- relinquishProcessor: (230) -----------------------------------------------------

@pytest.fixture
def nothing_else_ready(env, monkeypatch):
    monkeypatch.setattr(env.interp.scheduler, "highest_ready_priority", lambda: 0)
    return env


def test_relinquish_sleeps_until_the_timer_whatever_it_is_asked(nothing_else_ready):
    env = nothing_else_ready
    interp = env.interp
    w_rcvr = env.string("Processor")
    interp.next_wakeup_usecs = interp.now_usecs() + 300000
    assert env.call(230, w_rcvr, i(1000)) is w_rcvr
    # One sleep to the deadline, not the 1 ms the image asked for.
    assert interp.now_usecs() >= interp.next_wakeup_usecs


@pytest.mark.parametrize("usecs", [0, 1000, 10 ** 9])
def test_relinquish_returns_at_once_for_a_timer_due(nothing_else_ready, usecs):
    env = nothing_else_ready
    interp = env.interp
    interp.next_wakeup_usecs = interp.now_usecs() - 1
    assert env.call(230, env.nil, i(usecs)) is env.nil


@pytest.mark.parametrize("usecs", [0, 1000])
def test_relinquish_with_nothing_to_wake_a_process_is_a_deadlock(nothing_else_ready, usecs):
    env = nothing_else_ready
    env.interp.next_wakeup_usecs = 0
    with pytest.raises(VMFatal) as e:
        env.call(230, env.nil, i(usecs))
    assert e.value.message.startswith("deadlock:")


def test_relinquish_with_a_shutdown_hook_sleeps_until_a_signal(nothing_else_ready, monkeypatch):
    # Waiting forever is what a server does: only the host's stop request ends it.
    env = nothing_else_ready
    interp = env.interp
    slept = []
    monkeypatch.setattr(system.platform, "sleep_microseconds", slept.append)
    monkeypatch.setattr(interp, "w_shutdown_semaphore", env.new_semaphore())
    interp.next_wakeup_usecs = 0
    assert env.call(230, env.nil, i(1000)) is env.nil
    assert slept == [system.SLEEP_UNTIL_SIGNALLED_USECS]


def test_relinquish_does_not_sleep_over_a_signal(nothing_else_ready, monkeypatch):
    # A stop request that came while the VM slept (or just before) is looked at
    # first: sleeping again could be for an hour.
    from spyvm.platform import alarm
    env = nothing_else_ready
    interp = env.interp
    slept = []
    monkeypatch.setattr(system.platform, "sleep_microseconds", slept.append)
    interp.next_wakeup_usecs = interp.now_usecs() + 10 ** 9
    alarm.raise_flag()
    try:
        assert env.call(230, env.nil, i(1000)) is env.nil
        assert slept == [] and interp.interrupt_counter == 0
    finally:
        alarm.clear()


def test_relinquish_sleeps_until_the_shutdown_hooks_deadline(nothing_else_ready, monkeypatch):
    env = nothing_else_ready
    interp = env.interp
    slept = []
    monkeypatch.setattr(system.platform, "sleep_microseconds", slept.append)
    interp.next_wakeup_usecs = interp.now_usecs() + 10 ** 9
    monkeypatch.setattr(interp, "shutdown_deadline_usecs", interp.now_usecs() + 10 ** 6)
    env.call(230, env.nil, i(1000))
    assert 0 < slept[0] <= 10 ** 6


def test_relinquish_yields_to_a_ready_process_without_sleeping(env, monkeypatch):
    interp = env.interp
    monkeypatch.setattr(interp.scheduler, "highest_ready_priority", lambda: 1)
    slept = []
    monkeypatch.setattr(system.platform, "sleep_microseconds", slept.append)
    interp.next_wakeup_usecs = 0
    assert env.call(230, env.nil, i(10 ** 9)) is env.nil
    interp.next_wakeup_usecs = interp.now_usecs() + 10 ** 9
    assert env.call(230, env.nil, i(10 ** 9)) is env.nil
    assert slept == []


def test_relinquish_without_an_argument_waits_for_the_next_event(nothing_else_ready):
    # CodeParadise's Process>>idle calls 230 without an argument, as SqueakJS
    # allows: the same wait, then the same deadlock check.
    env = nothing_else_ready
    interp = env.interp
    w_rcvr = env.string("a Process")
    interp.next_wakeup_usecs = interp.now_usecs() + 200000
    assert env.call(230, w_rcvr) is w_rcvr
    assert interp.now_usecs() >= interp.next_wakeup_usecs
    interp.next_wakeup_usecs = 0
    with pytest.raises(VMFatal) as e:
        env.call(230, w_rcvr)
    assert e.value.message.startswith("deadlock:")


def test_relinquish_failures(env):
    env.fails(230, env.nil, env.nil)
    env.fails(230, env.nil, env.space.wrap_float(1.0))


# --- memory (112, 124, 125, 130, 131) -----------------------------------------------

@pytest.mark.parametrize("number", [112, 130, 131])
def test_memory_queries_answer_integers(env, number):
    w_result = env.call(number, env.nil)
    assert isinstance(w_result, W_SmallInteger) and w_result.value > 0


def test_low_space_semaphore(env):
    w_sema = _semaphore(env)
    w_rcvr = env.string("Smalltalk")
    assert env.call(124, w_rcvr, w_sema) is w_rcvr
    assert env.space.special(constants.SO_LOW_SPACE_SEMAPHORE) is w_sema
    env.call(124, w_rcvr, env.nil)
    assert env.space.special(constants.SO_LOW_SPACE_SEMAPHORE) is env.nil


def test_low_space_threshold(env):
    w_rcvr = env.string("Smalltalk")
    assert env.call(125, w_rcvr, i(100000)) is w_rcvr
    env.fails(125, w_rcvr, env.nil)
    env.fails(125, w_rcvr, env.string("1"))


# --- image name, VM path, system attributes, VM parameters (121, 142, 149, 254) ------

def test_image_name_and_vm_path(env):
    env.interp.image_name = "/images/test.image"
    env.interp.vm_path = "/opt/cogxen/cogxen"
    w_name = env.call(121, env.nil)
    assert isinstance(w_name, W_BytesObject) and w_name.as_string() == "/images/test.image"
    assert w_name.getclass(env.space) is env.space.w_String
    w_path = env.call(142, env.nil)
    assert w_path.as_string() == "/opt/cogxen/"
    assert w_path.getclass(env.space) is env.space.w_String
    env.interp.image_name = ""
    assert env.call(121, env.nil).as_string() == ""


def test_get_system_attribute_paths_and_arguments(env):
    interp = env.interp
    interp.vm_path = "/opt/cogxen/cogxen"
    interp.image_name = "/images/test.image"
    interp.image_args = ["first", "second"]
    assert env.call(149, env.nil, i(0)).as_string() == "/opt/cogxen/cogxen"
    assert env.call(149, env.nil, i(1)).as_string() == "/images/test.image"
    assert env.call(149, env.nil, i(2)).as_string() == "first"
    w_second = env.call(149, env.nil, i(3))
    assert w_second.as_string() == "second"
    assert w_second.getclass(env.space) is env.space.w_String
    assert env.call(149, env.nil, i(4)) is env.nil
    assert env.call(149, env.nil, i(500)) is env.nil
    assert env.call(149, env.nil, i(-1)) is env.nil


@pytest.mark.parametrize("index, expected", [(1001, "unix"), (1002, "linux"),
                                             (1003, "x86_64"), (1005, "none")])
def test_get_system_attribute_platform(env, index, expected):
    """getSystemAttribute: 1001-1005 (platform name, OS version, processor, VM version,
    window system) as documented in Interpreter.system_attribute."""
    w_value = env.call(149, env.nil, i(index))
    assert isinstance(w_value, W_BytesObject), "attribute %d answered nil" % index
    assert w_value.as_string() == expected


def test_get_system_attribute_vm_version(env):
    w_value = env.call(149, env.nil, i(1004))
    assert isinstance(w_value, W_BytesObject), "attribute 1004 answered nil"
    assert w_value.as_string().startswith("CogXen ")


def test_get_system_attribute_vm_options(env):
    """Negative indices are the VM's own options as given (-1 the first), as an
    OpenSmalltalk VM answers them; nil past the last."""
    env.interp.vm_options = ["--headless", "--memory", "64M"]
    assert env.call(149, env.nil, i(-1)).as_string() == "--headless"
    assert env.call(149, env.nil, i(-3)).as_string() == "64M"
    assert env.call(149, env.nil, i(-4)) is env.nil
    assert env.call(149, env.nil, i(-1000)) is env.nil


def test_get_system_attribute_build_interpreter_and_sources(env):
    """1006 (build), 1007 (interpreter) and 1009 (source version) answer strings, as
    OpenSmalltalk VMs do: Pharo's error log and `--version` write them with
    nextPutAll:. 1008, the Cogit, is a Cog VM's only: nil."""
    for index in (1006, 1007, 1009):
        w_value = env.call(149, env.nil, i(index))
        assert isinstance(w_value, W_BytesObject), "attribute %d answered nil" % index
        assert w_value.getclass(env.space) is env.space.w_String
        assert "CogXen" in w_value.as_string()
    assert env.call(149, env.nil, i(1009)).as_string().startswith("VM: ")
    assert env.call(149, env.nil, i(1008)) is env.nil
    assert env.call(149, env.nil, i(1010)) is env.nil


def test_get_system_attribute_failures(env):
    env.fails(149, env.nil, env.nil)
    env.fails(149, env.nil, env.string("1"))


def test_vm_parameter_at(env):
    assert env.call(254, env.nil, i(1)).value == 0
    env.fails(254, env.nil, env.nil)
    # vmParameterAt:put: (Cuis sets GC parameters at start-up): accepted, answers
    # the old value, which reads 0 like every parameter here.
    assert env.call(254, env.nil, i(6), i(2000)).value == 0
    assert env.call(254, env.nil, i(6)).value == 0
    env.fails(254, env.nil, i(6), env.nil)
    env.fails(254, env.nil, env.nil, i(1))
    env.run_fails(254, env.nil, [])
    env.run_fails(254, env.nil, [i(1), i(2), i(3)])


def test_snapshot_fails_without_an_image_to_save_and_debugger_fails(env):
    # Saving needs the loaded image's format and a name (tests/images/test_snapshot.py
    # saves real images); here there is neither.
    env.interp.image = None
    env.fails(97, env.nil)
    env.fails(114, env.nil)


def test_image_name_can_be_set(env):
    ctx, answered = env.run(121, env.nil, [env.string("/elsewhere/new.image")])
    assert answered is ctx and ctx.top() is env.nil      # answers the receiver
    assert env.interp.image_name == "/elsewhere/new.image"
    env.fails(121, env.nil, env.string(""))
    env.fails(121, env.nil, i(3))


def test_interrupt_key_and_semaphore(env):
    w_sema = env.obj(env.space.w_Semaphore, env.nil, env.nil, i(0))
    assert env.call(134, env.nil, w_sema) is env.nil
    assert env.space.special(constants.SO_USER_INTERRUPT_SEMAPHORE) is w_sema
    assert env.call(133, env.nil, i(46)) is env.nil
    env.fails(133, env.nil, env.nil)


# --- special objects array (129) ----------------------------------------------------

def test_special_objects_array(env):
    w_array = env.call(129, env.nil)
    assert w_array is env.space.w_special_objects
    assert w_array.slots[constants.SO_NIL] is env.nil
    assert w_array.slots[constants.SO_TRUE] is env.space.w_true


# --- external call (117) ------------------------------------------------------------

def _external_method(env, module, name, num_args):
    w_desc = env.array(env.string(module) if module is not None else env.nil,
                       env.string(name), i(0), i(0))
    return env.method("\x7c", [w_desc, env.nil, env.nil], num_args=num_args, prim=117)


def _string_hash(s, h):
    h &= 0x0fffffff
    for c in s:
        h = ((h + ord(c)) * 1664525) & 0x0fffffff
    return h


def test_external_call_dispatches(env):
    w_method = _external_method(env, "MiscPrimitivePlugin", "primitiveStringHash", 2)
    w_result = env.call(117, env.space.w_String, env.string("abc"), i(0),
                        w_method=w_method)
    assert w_result.value == _string_hash("abc", 0)


def test_external_call_dispatches_to_cogxen_output(env, capfd):
    w_method = _external_method(env, "CogXenPlugin", "primitiveWriteStdout", 1)
    w_rcvr = env.string("Transcript")
    assert env.call(117, w_rcvr, env.string("via 117\n"), w_method=w_method) is w_rcvr
    assert capfd.readouterr().out == "via 117\n"


def test_external_call_named_primitive_failure_keeps_stack(env):
    w_method = _external_method(env, "MiscPrimitivePlugin", "primitiveStringHash", 2)
    env.fails(117, env.space.w_String, env.string("abc"), env.nil, w_method=w_method)
    env.fails(117, env.space.w_String, env.string("abc"), w_method=w_method)


def test_external_call_unknown_names_fail(env):
    for module, name in [("MiscPrimitivePlugin", "primitiveNoSuchThing"),
                         ("NoSuchPlugin", "primitiveStringHash"),
                         (None, "primitiveStringHash"),
                         ("", "")]:
        w_method = _external_method(env, module, name, 2)
        env.fails(117, env.space.w_String, env.string("abc"), i(0), w_method=w_method)


def test_external_call_malformed_descriptions_fail(env):
    w_args = (env.string("abc"), i(0))
    for literals in [[],
                     [env.string("MiscPrimitivePlugin")],
                     [env.array(env.string("MiscPrimitivePlugin"))],
                     [i(3)],
                     [env.nil]]:
        w_method = env.method("\x7c", literals, num_args=2, prim=117)
        env.fails(117, env.space.w_String, *w_args, w_method=w_method)
    w_symbols = env.array(env.array(), env.array(), i(0), i(0))
    w_method = env.method("\x7c", [w_symbols], num_args=2, prim=117)
    env.fails(117, env.space.w_String, *w_args, w_method=w_method)
