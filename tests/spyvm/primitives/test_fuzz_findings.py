"""What the primitive fuzz (tests/images/test_primitive_fuzz.py) found, as unit tests.

- new, new:, newMethod:header: and adoptInstance: (70, 71, 79, 160) took any pointers
  object whose third slot read as a format for a class, and made instances whose
  class was, say, an Array or a Semaphore;
- signal and wait (85, 86) took any pointers object of three slots for a Semaphore:
  an Array of nil and SmallIntegers ended the run ("a process list holds something
  that is not a Process"), and a wait that put the process after a last link that
  is not an object raised an internal error.
"""

import pytest

from spyvm import constants
from spyvm.model import W_PointersObject, W_SmallInteger
from spyvm.primitives import objects


def i(n):
    return W_SmallInteger(n)


@pytest.fixture
def metaclasses(env):
    """Real metaclasses for the fake space's classes (there, every class is an instance
    of Metaclass itself): Array class, SmallInteger class... instances of Metaclass,
    whose class Metaclass class is an instance of Metaclass, which inherits from
    ClassDescription and Behavior. Answers a function making such a class."""
    space = env.space
    w_behavior = env.cls("Behavior", 3, constants.FMT_FIXED)
    w_description = env.cls("ClassDescription", 3, constants.FMT_FIXED, w_behavior)
    w_metaclass = env.cls("Metaclass", 6, constants.FMT_FIXED, w_description)
    w_metametaclass = env.cls("Metaclass class", 6, constants.FMT_FIXED)
    w_metaclass.change_class(w_metametaclass)
    w_metametaclass.change_class(w_metaclass)

    def give_metaclass(w_class):
        w_meta = env.cls("a metaclass", 6, constants.FMT_FIXED)
        w_meta.change_class(w_metaclass)
        w_class.change_class(w_meta)
        return w_class

    for w_class in [space.w_SmallInteger, space.w_Array, space.w_Object, space.w_Semaphore,
                    space.w_CompiledMethod, space.w_nil.getclass(space)]:
        give_metaclass(w_class)

    def make(name, inst_size, spec, w_super=None):
        return give_metaclass(env.cls(name, inst_size, spec, w_super))
    make.w_behavior = w_behavior
    make.w_metaclass = w_metaclass
    return make


@pytest.fixture
def fake_class(env, metaclasses):
    """An Array whose slots read as superclass, method dictionary and a format word."""
    w_class = env.cls("Thing", 2, constants.FMT_FIXED)
    return env.array(*w_class.slots)


@pytest.mark.parametrize("number", [70, 71])
def test_new_of_a_non_class_fails(env, fake_class, number):
    args = [i(3)] if number == 71 else []
    env.fails(number, fake_class, *args)


def test_new_method_of_a_non_class_fails(env, metaclasses):
    w_fake = env.array(*env.space.w_CompiledMethod.slots)
    env.fails(79, w_fake, i(4), i(0))
    assert env.call(79, env.space.w_CompiledMethod, i(4), i(0)).getclass(env.space) is \
        env.space.w_CompiledMethod


def test_adopt_instance_by_a_non_class_fails(env, fake_class):
    w_thing = env.obj(env.space.w_Object)
    env.fails(160, fake_class, w_thing)
    assert w_thing.getclass(env.space) is env.space.w_Object


def test_classes_and_metaclasses_are_classes(env, metaclasses):
    space = env.space
    w_class = metaclasses("Thing", 2, constants.FMT_FIXED)
    assert objects.is_class(space, w_class)
    assert objects.is_class(space, space.w_Array)
    assert objects.is_class(space, space.w_Array.getclass(space))      # a metaclass
    assert objects.is_class(space, metaclasses.w_metaclass)
    assert not objects.is_class(space, env.array(*w_class.slots))
    assert not objects.is_class(space, i(3))
    assert not objects.is_class(space, space.w_nil)
    assert env.call(70, w_class).getclass(space) is w_class


def test_instances_of_behavior_are_classes(env, metaclasses):
    """`Behavior new` makes a class without a metaclass of its own: still a class."""
    space = env.space
    w_class = metaclasses("Thing", 2, constants.FMT_FIXED)
    metaclasses.w_behavior.change_class(metaclasses("Behavior class", 6,
                                                    constants.FMT_FIXED))
    w_anonymous = env.obj(metaclasses.w_behavior, *w_class.slots)
    assert objects.is_class(space, w_anonymous)
    assert env.call(70, w_anonymous).getclass(space) is w_anonymous


def semaphore(env, w_first, w_last, w_excess):
    return env.obj(env.space.w_Semaphore, w_first, w_last, w_excess)


@pytest.mark.parametrize("number", [85, 86])
def test_signal_and_wait_of_a_non_semaphore_fail(env, number):
    space = env.space
    w_array = env.array(i(1), env.char(97), env.nil, i(0))
    env.run_fails(number, w_array, [])
    w_other = env.obj(env.cls("NotASemaphore", 3, constants.FMT_FIXED),
                      env.nil, env.nil, i(0))
    env.run_fails(number, w_other, [])
    assert w_other.fetch(space, constants.SEMAPHORE_EXCESS_SIGNALS).value == 0


@pytest.mark.parametrize("number", [85, 86])
def test_signal_and_wait_of_a_broken_semaphore_fail(env, number):
    """Links that are not processes, or an excess count that is not a SmallInteger."""
    nil = env.nil
    for w_sema in [semaphore(env, i(3), i(4), i(0)),
                   semaphore(env, nil, i(4), i(0)),
                   semaphore(env, env.array(), env.array(), i(0)),
                   semaphore(env, nil, nil, nil)]:
        env.run_fails(number, w_sema, [])


def test_signal_of_a_good_semaphore_counts(env):
    w_sema = semaphore(env, env.nil, env.nil, i(0))
    ctx, answered = env.run(85, w_sema, [])
    assert answered is ctx
    assert w_sema.fetch(env.space, constants.SEMAPHORE_EXCESS_SIGNALS).value == 1
    assert isinstance(w_sema, W_PointersObject)
