"""Whole-heap operations: enumerating objects (allInstances) and become:.

The VM keeps no list of its objects; the garbage collector knows them all.
Two-way become: between objects of the same representation swaps their
contents, which exchanges identities without touching any reference.
Everything else (one-way become, mixed representations) rewrites references
found by walking the heap.
"""

from rpython.rlib import rgc
from rpython.rlib.objectmodel import we_are_translated

from spyvm.model import (W_Object, W_PointersObject, W_BytesObject, W_WordsObject,
                         W_Float, W_CompiledMethod, W_Context, W_HeapObject)


def _as_object(gcref):
    w_obj = rgc.try_cast_gcref_to_instance(W_Object, gcref)
    if w_obj is not None and isinstance(w_obj, W_HeapObject):
        return w_obj
    return None


def all_objects(interp):
    """Every heap object the image can reach (and possibly some garbage).

    Contexts found are handed to the image: they count as escaped, and a linked
    sender becomes an ordinary reference (see W_Context)."""
    if not we_are_translated():
        import gc
        objects_w = [o for o in gc.get_objects() if isinstance(o, W_HeapObject)
                     and o.w_class is not None]
    else:
        objects_w = rgc.do_get_objects(_as_object)
    for w_obj in objects_w:
        if isinstance(w_obj, W_Context):
            w_obj.sender()
            w_obj.mark_escaped()
    return objects_w


def can_become(w_obj):
    return isinstance(w_obj, W_HeapObject)


def _swap_contents(w_a, w_b):
    """Exchange the identities of two objects of the same representation."""
    assert isinstance(w_a, W_HeapObject) and isinstance(w_b, W_HeapObject)
    # Identity hashes stay with the references, as in Squeak: not swapped.
    w_a.w_class, w_b.w_class = w_b.w_class, w_a.w_class
    if isinstance(w_a, W_PointersObject) and isinstance(w_b, W_PointersObject):
        w_a.slots, w_b.slots = w_b.slots, w_a.slots
        w_a.weak, w_b.weak = w_b.weak, w_a.weak
    elif isinstance(w_a, W_BytesObject) and isinstance(w_b, W_BytesObject):
        w_a.bytes, w_b.bytes = w_b.bytes, w_a.bytes
    elif isinstance(w_a, W_WordsObject) and isinstance(w_b, W_WordsObject):
        w_a.words, w_b.words = w_b.words, w_a.words
    elif isinstance(w_a, W_Float) and isinstance(w_b, W_Float):
        w_a.value, w_b.value = w_b.value, w_a.value
    elif isinstance(w_a, W_CompiledMethod) and isinstance(w_b, W_CompiledMethod):
        w_a.swap_with(w_b)
    elif isinstance(w_a, W_Context) and isinstance(w_b, W_Context):
        w_a.swap_with(w_b)
    else:
        raise AssertionError("unswappable pair")


def _same_representation(w_a, w_b):
    return (isinstance(w_a, W_PointersObject) and isinstance(w_b, W_PointersObject)) or \
        (isinstance(w_a, W_BytesObject) and isinstance(w_b, W_BytesObject)) or \
        (isinstance(w_a, W_WordsObject) and isinstance(w_b, W_WordsObject)) or \
        (isinstance(w_a, W_Float) and isinstance(w_b, W_Float)) or \
        (isinstance(w_a, W_CompiledMethod) and isinstance(w_b, W_CompiledMethod)) or \
        (isinstance(w_a, W_Context) and isinstance(w_b, W_Context))


def become(interp, from_w, to_w, two_way):
    """Make references to from_w[i] refer to to_w[i] (and back if two_way)."""
    if two_way:
        simple = True
        for i in range(len(from_w)):
            if not _same_representation(from_w[i], to_w[i]):
                simple = False
        if simple:
            for i in range(len(from_w)):
                if from_w[i] is not to_w[i]:
                    _swap_contents(from_w[i], to_w[i])
            # The special objects array may have swapped contents.
            interp.space.cache_special_selectors()
            return True
    space = interp.space
    mapping = {}
    for i in range(len(from_w)):
        w_from = from_w[i]
        w_to = to_w[i]
        assert isinstance(w_from, W_HeapObject) and isinstance(w_to, W_HeapObject)
        mapping[w_from] = w_to
        # The hash stays with the reference: the object now referenced takes it.
        from_hash = w_from.gethash(space)
        if two_way:
            mapping[w_to] = w_from
            w_from.hash = w_to.gethash(space)
        w_to.hash = from_hash
    for w_obj in all_objects(interp):
        assert isinstance(w_obj, W_HeapObject)
        w_obj.w_class = mapping.get(w_obj.w_class, w_obj.w_class)
        if isinstance(w_obj, W_PointersObject):
            _remap_list(w_obj.slots, mapping)
        elif isinstance(w_obj, W_CompiledMethod):
            # A new list: literals are quasi-immutable for the JIT.
            literals = w_obj.literals[:]
            if _remap_list(literals, mapping):
                w_obj.literals = literals
        elif isinstance(w_obj, W_Context):
            w_obj.remap(mapping)
    if space.w_special_objects in mapping:
        space.install_special_objects(mapping[space.w_special_objects])
    else:
        space.cache_special_selectors()
    return True


def _remap_list(items_w, mapping):
    """Replace references in items_w per mapping; whether anything changed."""
    changed = False
    for i in range(len(items_w)):
        w_new = mapping.get(items_w[i], None)
        if w_new is not None:
            items_w[i] = w_new
            changed = True
    return changed
