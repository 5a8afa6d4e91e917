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


def _walk_heap():
    """The W_HeapObjects reachable from the GC's roots, in one walk.

    Not rgc.do_get_objects: it lists an object's referents by tracing it twice
    (count, then copy) with an allocation in between, and a collection there
    may run a destructor that empties an object being traced (a JIT loop's
    CompiledLoopToken, freed, zeroes the tracer of its machine code's
    references), leaving NULLs among the referents; its clean-up traces the heap
    again and meets them too. Here the full collection first frees what only
    weak references hold (old loops), NULL referents are skipped, and the marks
    are cleared from the list of objects marked, not by tracing again."""
    rgc.collect()
    roots = rgc.get_rpy_roots()
    if not roots:
        return []
    pending = [gcref for gcref in roots if gcref]
    marked = []
    objects_w = []
    while pending:
        gcref = pending.pop()
        if not gcref or rgc.get_gcflag_extra(gcref):
            continue
        rgc.toggle_gcflag_extra(gcref)
        marked.append(gcref)
        w_obj = _as_object(gcref)
        if w_obj is not None:
            objects_w.append(w_obj)
        pending.extend(rgc.get_rpy_referents(gcref))
    for gcref in marked:
        rgc.toggle_gcflag_extra(gcref)
    return objects_w


def all_objects(interp):
    """Every heap object the image can reach.

    Contexts found are handed to the image: they count as escaped, and a linked
    sender becomes an ordinary reference (see W_Context)."""
    if not we_are_translated():
        import gc
        objects_w = [o for o in gc.get_objects() if isinstance(o, W_HeapObject)
                     and o.w_class is not None]
    else:
        objects_w = _walk_heap()
    for w_obj in objects_w:
        if isinstance(w_obj, W_Context):
            w_obj.sender()
            w_obj.mark_escaped()
    return objects_w


# --- enumerations: someInstance/nextInstance, someObject/nextObject -------------
#
# The image walks the heap one object at a time (allInstances, allObjectsDo:),
# each step naming the object it stopped at. A walk of the heap per step would
# make those loops quadratic, so the first step takes a snapshot of what the
# walk will visit and the following steps continue in it. When the snapshot
# runs out, the walk is extended once by the objects created since (the
# end-marker `Object new` of allObjectsDo: is one of them); objects created
# after that are not seen, so a loop that allocates as it goes still ends, as
# Squeak leaves it open whether objects made during a walk are visited.

# Walks kept at once (one per class walked, plus allObjects): nested loops over
# other classes go on, and abandoned walks are not kept for ever.
MAX_WALKS = 8


class HeapWalk(object):
    """A walk in progress: the objects it visits (instances of one class, or
    every object), and where it is."""

    def __init__(self, w_class, objects_w):
        self.w_class = w_class            # None: every object
        self.objects_w = objects_w
        self.position = {}                # object -> index, filled on demand
        self.indexed = 0                  # objects_w[:indexed] are in position
        self.last = 0                     # index of the object last answered
        self.extended = False

    def wants(self, space, w_obj):
        return self.w_class is None or w_obj.getclass(space) is self.w_class

    def _index_up_to(self, stop):
        objects_w = self.objects_w
        for i in range(self.indexed, stop):
            self.position[objects_w[i]] = i
        if stop > self.indexed:
            self.indexed = stop

    def index_of(self, w_obj):
        """Where w_obj is in the walk, or -1."""
        last = self.last
        if 0 <= last < len(self.objects_w) and self.objects_w[last] is w_obj:
            return last
        self._index_up_to(len(self.objects_w))
        return self.position.get(w_obj, -1)

    def extend(self, interp):
        """Add the objects the walk wants that were created since it began."""
        space = interp.space
        self._index_up_to(len(self.objects_w))
        for w_obj in all_objects(interp):
            if self.wants(space, w_obj) and w_obj not in self.position:
                self.objects_w.append(w_obj)
        self.extended = True

    def next_after(self, interp, index):
        """The next object the walk wants after index, or None at its end."""
        space = interp.space
        i = index + 1
        while True:
            objects_w = self.objects_w
            while i < len(objects_w):
                w_obj = objects_w[i]
                # A two-way become: may have changed an object's class since.
                if self.wants(space, w_obj):
                    self.last = i
                    return w_obj
                i += 1
            if self.extended:
                return None
            self.extend(interp)


class HeapWalks(object):
    """The walks in progress of one interpreter."""

    def __init__(self):
        self.by_class = {}                # class -> HeapWalk of its instances
        self.all = None                   # the walk over every object

    def clear(self):
        """Forget every walk: after a become: (references changed) and before a
        collection, so that a walk does not keep garbage alive. A walk that
        goes on then starts from a new snapshot at the object it names."""
        self.by_class = {}
        self.all = None

    def count(self):
        n = len(self.by_class)
        if self.all is not None:
            n += 1
        return n

    def start(self, interp, w_class):
        space = interp.space
        objects_w = []
        for w_obj in all_objects(interp):
            if w_class is None or w_obj.getclass(space) is w_class:
                objects_w.append(w_obj)
        walk = HeapWalk(w_class, objects_w)
        if self.count() >= MAX_WALKS:
            self.clear()
        if w_class is None:
            self.all = walk
        else:
            self.by_class[w_class] = walk
        return walk

    def drop(self, walk):
        if walk.w_class is None:
            if self.all is walk:
                self.all = None
        elif self.by_class.get(walk.w_class, None) is walk:
            del self.by_class[walk.w_class]

    def first(self, interp, w_class):
        """someInstance (w_class) or someObject (None): a new walk's first object."""
        walk = self.start(interp, w_class)
        w_first = walk.next_after(interp, -1)
        if w_first is None:
            self.drop(walk)
        return w_first

    def next(self, interp, w_class, w_obj):
        """nextInstance (w_class is w_obj's class) or nextObject (None)."""
        if w_class is None:
            walk = self.all
        else:
            walk = self.by_class.get(w_class, None)
        index = -1
        if walk is not None:
            index = walk.index_of(w_obj)
        if index < 0:
            # No walk, or w_obj is newer than it: continue from a new snapshot.
            walk = self.start(interp, w_class)
            index = walk.index_of(w_obj)
            if index < 0:
                self.drop(walk)
                return None
        w_next = walk.next_after(interp, index)
        if w_next is None:
            self.drop(walk)
        return w_next


def all_instances(interp, w_class):
    """Every instance of w_class, in one walk of the heap."""
    space = interp.space
    instances_w = []
    for w_obj in all_objects(interp):
        if w_obj.getclass(space) is w_class:
            instances_w.append(w_obj)
    return instances_w


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
    """Make references to from_w[i] refer to to_w[i] (and back if two_way).

    Two-way pairs of the same representation swap contents, without a walk of
    the heap; the heap is walked once for whatever is left (one-way become,
    pairs of mixed representations)."""
    interp.heap_walks.clear()
    space = interp.space
    # An object named twice is remapped with the rest: swapping its contents
    # and remapping references to it would not commute.
    seen = {}
    repeated = False
    for i in range(len(from_w)):
        if from_w[i] in seen or to_w[i] in seen:
            repeated = True
        seen[from_w[i]] = True
        seen[to_w[i]] = True
    mapping = {}
    remap = False
    swapped = False
    lookups_changed = False
    for i in range(len(from_w)):
        w_from = from_w[i]
        w_to = to_w[i]
        assert isinstance(w_from, W_HeapObject) and isinstance(w_to, W_HeapObject)
        if w_from is w_to:
            continue
        if two_way and not repeated and _same_representation(w_from, w_to):
            _swap_contents(w_from, w_to)
            swapped = True
            if _lookups_depend_on(interp, w_from) or _lookups_depend_on(interp, w_to):
                lookups_changed = True
            continue
        mapping[w_from] = w_to
        # The hash stays with the reference: the object now referenced takes it.
        from_hash = w_from.gethash(space)
        if two_way:
            mapping[w_to] = w_from
            w_from.hash = w_to.gethash(space)
        w_to.hash = from_hash
        remap = True
    if remap:
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
    if remap and space.w_special_objects in mapping:
        space.install_special_objects(mapping[space.w_special_objects])
    elif remap or swapped:
        # The special objects array may have swapped contents.
        space.cache_special_selectors()
    # A heap walk may have replaced references anywhere, a method dictionary's
    # selectors included; swapped contents matter only where lookups read them.
    # The method cache's version is quasi-immutable: a flush throws away every
    # trace, so the common become: (of ordinary objects) must not flush.
    if remap or lookups_changed:
        interp.flush_method_cache()
    return True


def _lookups_depend_on(interp, w_obj):
    return isinstance(w_obj, W_CompiledMethod) or interp.method_cache.depends_on(w_obj)


def _remap_list(items_w, mapping):
    """Replace references in items_w per mapping; whether anything changed."""
    changed = False
    for i in range(len(items_w)):
        w_new = mapping.get(items_w[i], None)
        if w_new is not None:
            items_w[i] = w_new
            changed = True
    return changed
