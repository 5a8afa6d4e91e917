"""Writing images: serialise an object space in the format and byte order it was read in."""

from spyvm import constants
from spyvm.image.format import ImageError


def image_bytes(space, loaded, objects_w=None):
    """The bytes of an image holding the space's objects.

    objects_w, when given, is every object to write, in order (a round trip of a
    file just read writes loaded.objects_w); otherwise the objects reachable from
    the special objects array are written.
    """
    if loaded.version == constants.FORMAT_SPUR_32 or \
            loaded.version == constants.FORMAT_SPUR_64:
        from spyvm.image import spurwriter
        return spurwriter.image_bytes(space, loaded, objects_w)
    if loaded.version in constants.V3_FORMATS:
        from spyvm.image import v3writer
        return v3writer.image_bytes(space, loaded, objects_w, loaded.old_base)
    raise ImageError("cannot write image format %d" % loaded.version)
