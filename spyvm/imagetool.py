"""cogxen-image: inspect and convert images with the VM's own reader and writer.

    cogxen-image info IMAGE
    cogxen-image convert --byte-order big|little IN OUT

Runs on the host Python (it is not part of the translated VM).
"""

import os
import sys

from spyvm import model
from spyvm.image import reader, writer
from spyvm.image.format import ImageError

USAGE = """Usage: cogxen-image info IMAGE
       cogxen-image convert --byte-order big|little IN OUT
"""


def count_classes(loaded):
    """Objects that are classes: instances of a metaclass (an instance of Metaclass)."""
    space = loaded.space
    w_metaclass = space.w_SmallInteger.getclass(space).getclass(space)
    count = 0
    for w_obj in loaded.objects_w:
        w_class = w_obj.getclass(space)
        if isinstance(w_class, model.W_HeapObject) and \
                w_class.getclass(space) is w_metaclass:
            count += 1
    return count


def info(path, out):
    loaded = read(path)
    out.write("file: %s\n" % path)
    out.write("format: %s\n" % loaded.format_name())
    out.write("word size: %d bits\n" % (loaded.space.word_size * 8))
    out.write("byte order: %s\n" % ("little-endian" if loaded.little_endian
                                     else "big-endian"))
    out.write("objects: %d\n" % len(loaded.objects_w))
    out.write("classes: %d\n" % count_classes(loaded))


def convert(byte_order, src, dst):
    loaded = read(src)
    loaded.little_endian = byte_order == "little"
    data = writer.image_bytes(loaded.space, loaded, loaded.objects_w)
    with open(dst, "wb") as f:
        f.write(data)


def read(path):
    if not os.path.isfile(path):
        raise ImageError("no such image file")
    with open(path, "rb") as f:
        return reader.read_image(f.read())


def main(argv, out=sys.stdout, err=sys.stderr):
    args = argv[1:]
    try:
        if len(args) == 2 and args[0] == "info":
            info(args[1], out)
            return 0
        if len(args) == 5 and args[0] == "convert" and args[1] == "--byte-order" \
                and args[2] in ("big", "little"):
            convert(args[2], args[3], args[4])
            return 0
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
