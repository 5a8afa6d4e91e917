"""cogxen-image: inspect and convert images with the VM's own reader and writer.

    cogxen-image info IMAGE
    cogxen-image convert [--format spur32|spur64] [--byte-order big|little]
                            [--bytecodes sistav1] IN OUT

Runs on the host Python (it is not part of the translated VM).

Changing a Spur image's word size keeps every object. To 64 bits nothing needs
to change but the layout (the writer sizes slots, headers and the class table);
the image's SmallFloat64 class, if it has one, goes to the class table's entry 4
(without one, as in small kernels, every Float stays boxed). To 32
bits, what 32-bit Spur cannot hold as an immediate becomes an object: a
SmallInteger beyond 31 bits a LargeInteger, a SmallFloat64 a boxed Float; each
reference to one gets its own (immediates have no identity to keep).

As a SystemTracer converting an image would, the converter also resets what
images cache of their word size: a class pool's WordSize (Squeak's and Cuis's
`Smalltalk wordSize`) is emptied so that the image asks the VM again, and
SmallInteger's MinVal and MaxVal get the new bounds.
"""

import os
import sys

from spyvm import constants, model, sistaconvert
from spyvm.image import reader, writer
from spyvm.image.format import ImageError

USAGE = """Usage: cogxen-image info IMAGE
       cogxen-image convert [--format spur32|spur64] [--byte-order big|little]
                            [--bytecodes sistav1] IN OUT
"""

FORMATS = {"spur32": 4, "spur64": 8}


def count_classes(loaded):
    """Objects that are classes: instances of a metaclass (an instance of Metaclass)."""
    return len(list(classes(loaded)))


def info(path, out):
    loaded = read(path)
    out.write("file: %s\n" % path)
    out.write("format: %s\n" % loaded.format_name())
    out.write("word size: %d bits\n" % (loaded.space.word_size * 8))
    out.write("byte order: %s\n" % ("little-endian" if loaded.little_endian
                                     else "big-endian"))
    out.write("objects: %d\n" % len(loaded.objects_w))
    out.write("classes: %d\n" % count_classes(loaded))


def convert(byte_order, src, dst, word_size=0, bytecodes=None, err=None):
    """byte_order "big" or "little" (None: as it was); word_size 4 or 8 for a
    Spur image of that word size (0: as it was); bytecodes "sistav1": every
    V3PlusClosures method re-encoded in SistaV1 (see spyvm/sistaconvert.py)."""
    loaded = read(src)
    if bytecodes == "sistav1":
        try:
            counts = sistaconvert.convert_image(loaded)
        except sistaconvert.Unconvertible as e:
            raise ImageError(str(e))
        if err is not None:
            err.write("cogxen-image: %d methods in SistaV1, %d kept in V3, "
                      "%d context pcs and %d closure startpcs moved\n" % counts)
    if byte_order is not None:
        loaded.little_endian = byte_order == "little"
    if word_size:
        change_word_size(loaded, word_size)
    data = writer.image_bytes(loaded.space, loaded, loaded.objects_w)
    with open(dst, "wb") as f:
        f.write(data)


def change_word_size(loaded, word_size):
    space = loaded.space
    if not space.is_spur:
        raise ImageError("only Spur images change word size (this is %s)"
                         % loaded.format_name())
    if space.word_size == word_size:
        return
    if word_size == 8:
        set_word_size(loaded, 8, constants.FORMAT_SPUR_64, find_class(loaded, "SmallFloat64"))
        forget_word_size_caches(loaded)
        return
    set_word_size(loaded, 4, constants.FORMAT_SPUR_32, None)
    forget_word_size_caches(loaded)
    made_w = []
    for w_obj in loaded.objects_w:
        if isinstance(w_obj, model.W_Context):
            for i in range(w_obj.size()):
                w_ref = w_obj.fetch(space, i)
                w_new = narrowed(space, w_ref, made_w)
                if w_new is not w_ref:
                    w_obj.store(space, i, w_new)
        elif isinstance(w_obj, model.W_PointersObject):
            for i, w_ref in enumerate(w_obj.slots):
                w_obj.slots[i] = narrowed(space, w_ref, made_w)
        elif isinstance(w_obj, model.W_CompiledMethod):
            for i, w_ref in enumerate(w_obj.literals):
                w_obj.literals[i] = narrowed(space, w_ref, made_w)
    loaded.objects_w.extend(made_w)


def set_word_size(loaded, word_size, version, w_small_float):
    space = loaded.space
    for w_obj in loaded.objects_w:
        # A method's literals are words: its first bytecode's index (and so the
        # pc a context saves) moves with the word size.
        if isinstance(w_obj, model.W_CompiledMethod):
            w_obj.word_size = word_size
    bits = 61 if word_size == 8 else 31
    space.word_size = word_size
    space.maxint = (1 << (bits - 1)) - 1
    space.minint = -(1 << (bits - 1))
    space.w_SmallFloat64 = w_small_float
    loaded.version = version


CLASS_POOL = 7          # Class>>classPool, after name, in Squeak, Cuis and Pharo
CLASS_INSTANCE_VARIABLES = 3


def forget_word_size_caches(loaded):
    space = loaded.space
    w_nil = space.w_nil
    for w_class in classes(loaded):
        w_pool = w_class.slots[CLASS_POOL] if len(w_class.slots) > CLASS_POOL else w_nil
        for w_binding in pool_bindings(space, w_pool):
            if w_binding.slots[0].as_string() == "WordSize":
                w_binding.slots[1] = w_nil
    w_small_integer = space.w_SmallInteger
    bounds = {"MinVal": space.minint, "MaxVal": space.maxint}
    w_names = w_small_integer.getclass(space).slots[CLASS_INSTANCE_VARIABLES]
    if isinstance(w_names, model.W_PointersObject):
        # The class side's own instance variables come last in the class object.
        first = len(w_small_integer.slots) - len(w_names.slots)
        for i, w_name in enumerate(w_names.slots):
            name = w_name.as_string() if isinstance(w_name, model.W_BytesObject) else ""
            if name in bounds and first + i >= 0:
                w_small_integer.slots[first + i] = model.W_SmallInteger(bounds[name])


def classes(loaded):
    space = loaded.space
    w_metaclass = space.w_SmallInteger.getclass(space).getclass(space)
    for w_obj in loaded.objects_w:
        w_class = w_obj.getclass(space)
        if isinstance(w_obj, model.W_PointersObject) and \
                isinstance(w_class, model.W_HeapObject) and \
                w_class.getclass(space) is w_metaclass:
            yield w_obj


def pool_bindings(space, w_pool):
    """The key -> value bindings of a class pool (a Dictionary: tally, array)."""
    if not isinstance(w_pool, model.W_PointersObject) or len(w_pool.slots) < 2:
        return
    w_array = w_pool.slots[1]
    if not isinstance(w_array, model.W_PointersObject):
        return
    for w_binding in w_array.slots:
        if isinstance(w_binding, model.W_PointersObject) and \
                len(w_binding.slots) >= 2 and \
                isinstance(w_binding.slots[0], model.W_BytesObject):
            yield w_binding


def narrowed(space, w_ref, made_w):
    """w_ref, or the object a 32-bit image holds in its place (added to made_w)."""
    if isinstance(w_ref, model.W_SmallInteger) and not space.is_small_int(w_ref.value):
        w_new = space.wrap_int(w_ref.value)
    elif isinstance(w_ref, model.W_SmallFloat):
        w_new = model.W_Float(space.w_Float, w_ref.value)
    else:
        return w_ref
    made_w.append(w_new)
    return w_new


def find_class(loaded, name):
    space = loaded.space
    for w_obj in loaded.objects_w:
        if isinstance(w_obj, model.W_PointersObject) and \
                w_obj.size() > constants.CLASS_NAME and \
                space.class_name(w_obj) == name and \
                space.class_name(w_obj.getclass(space)) == name + " class":
            return w_obj
    return None


def read(path):
    if not os.path.isfile(path):
        raise ImageError("no such image file")
    with open(path, "rb") as f:
        return reader.read_image(f.read())


def convert_command(args, err):
    """convert [--format spur32|spur64] [--byte-order big|little] IN OUT"""
    byte_order = None
    word_size = 0
    bytecodes = None
    while len(args) > 2:
        if args[0] == "--byte-order" and args[1] in ("big", "little") and byte_order is None:
            byte_order = args[1]
        elif args[0] == "--format" and args[1] in FORMATS and not word_size:
            word_size = FORMATS[args[1]]
        elif args[0] == "--bytecodes" and args[1] == "sistav1" and bytecodes is None:
            bytecodes = args[1]
        else:
            break
        args = args[2:]
    if len(args) != 2 or (byte_order is None and not word_size and bytecodes is None):
        err.write(USAGE)
        return 2
    convert(byte_order, args[0], args[1], word_size, bytecodes, err)
    return 0


def main(argv, out=sys.stdout, err=sys.stderr):
    args = argv[1:]
    try:
        if len(args) == 2 and args[0] == "info":
            info(args[1], out)
            return 0
        if len(args) >= 3 and args[0] == "convert":
            return convert_command(args[1:], err)
    except ImageError as e:
        err.write("cogxen-image: %s\n" % e.message)
        return 2
    except (IOError, OSError) as e:
        err.write("cogxen-image: %s\n" % e)
        return 2
    err.write(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
