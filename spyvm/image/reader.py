"""Entry point for loading an image from bytes: detect the format and dispatch."""

from spyvm import constants
from spyvm.image.format import ImageError, detect_format


def read_image(data):
    """Parse image bytes into a LoadedImage, or raise ImageError with a one-line reason."""
    version, little_endian = detect_format(data)
    if version == constants.FORMAT_SPUR_32 or version == constants.FORMAT_SPUR_64:
        from spyvm.image import spur
        return spur.read(data, version, little_endian)
    from spyvm.image import v3
    return v3.read(data, version, little_endian)

