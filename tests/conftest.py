"""Shared test support.

image_path(name): the path of a real test image, found in $COGXEN_IMAGES or, by
default, <repo>/../shared/images. A test (or fixture) that needs a missing image
is skipped with a reason naming the folder searched.

Fixtures (session-scoped; each answers a function of the image's file name):
- image_path: image_path("mini.image") is the file's path;
- image_bytes: image_bytes("mini.image") is its contents, read once per session.
Use the fixtures rather than `from conftest import ...`: with several conftest.py
files in the tree, which one the name `conftest` refers to depends on the order
pytest loaded them.
"""

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def images_dir():
    return os.environ.get("COGXEN_IMAGES") or \
        os.path.normpath(os.path.join(REPO, "..", "shared", "images"))


def image_path(name):
    """Path of test image `name`; skips the calling test when it is not there."""
    folder = images_dir()
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        pytest.skip("test image %s not found in COGXEN_IMAGES=%s" % (name, folder))
    return path


_bytes_cache = {}


def image_bytes(name):
    """The bytes of test image `name` (read once per session); skips when missing."""
    path = image_path(name)
    if path not in _bytes_cache:
        with open(path, "rb") as f:
            _bytes_cache[path] = f.read()
    return _bytes_cache[path]


@pytest.fixture(name="image_path", scope="session")
def image_path_fixture():
    return image_path


@pytest.fixture(name="image_bytes", scope="session")
def image_bytes_fixture():
    return image_bytes
