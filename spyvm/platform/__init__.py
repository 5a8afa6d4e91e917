"""The platform interface: everything the VM needs from the world outside the image.

The VM calls only these functions. The hosted build implements them on POSIX
(spyvm/platform/posix.py); the Xen guest provides the same C-level services from
xenport/, so the translated VM is identical in both.
"""

from spyvm.platform import posix as current  # noqa: the one implementation linked today

__all__ = ['current']
