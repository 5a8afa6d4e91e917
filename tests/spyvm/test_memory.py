"""The memory policy: where the heap limit comes from, and the reserve past it."""

import pytest

from spyvm import memory
from spyvm.platform import posix

M = 1024 * 1024
G = 1024 * M


@pytest.fixture
def policy(monkeypatch):
    fresh = memory.Policy()
    monkeypatch.setattr(memory, "policy", fresh)
    return fresh


@pytest.mark.parametrize("text,size", [
    ("65536", 65536), ("512M", 512 * M), ("512MB", 512 * M), ("2g", 2 * G),
    ("2GB", 2 * G), ("1.5G", 3 * G / 2), ("64k", 64 * 1024), (" 8m ", 8 * M)])
def test_parse_size(text, size):
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "abc", "1.2.3M", "-5M", "5X", ".", "0", "1e9"])
def test_parse_size_refuses_what_is_not_a_size(text):
    assert memory.parse_size(text) == -1


def test_option_wins_over_pypy_gc_max(monkeypatch):
    monkeypatch.setenv("PYPY_GC_MAX", "300MB")
    assert memory.choose_limit(100 * M) == 100 * M
    assert memory.choose_limit(0) == 300 * M


def test_default_is_half_the_available_memory(monkeypatch):
    monkeypatch.delenv("PYPY_GC_MAX", raising=False)
    monkeypatch.setattr(posix, "available_memory_bytes", lambda: 64 * M)
    monkeypatch.setattr(posix, "address_space_limit_bytes", lambda: 0)
    assert memory.choose_limit(0) == 32 * M


def test_default_stays_under_an_address_space_limit(monkeypatch):
    monkeypatch.delenv("PYPY_GC_MAX", raising=False)
    monkeypatch.setattr(posix, "available_memory_bytes", lambda: 16 * G)
    monkeypatch.setattr(posix, "address_space_limit_bytes", lambda: 1 * G)
    assert memory.choose_limit(0) == 512 * M
    monkeypatch.setattr(posix, "available_memory_bytes", lambda: 0)
    assert memory.choose_limit(0) == 512 * M


def test_default_when_nothing_is_known(monkeypatch):
    monkeypatch.delenv("PYPY_GC_MAX", raising=False)
    monkeypatch.setattr(posix, "available_memory_bytes", lambda: 0)
    monkeypatch.setattr(posix, "address_space_limit_bytes", lambda: 0)
    assert memory.choose_limit(0) == memory.FALLBACK_LIMIT


def test_the_reserve_is_granted_once(policy, monkeypatch):
    sizes = []
    monkeypatch.setattr(memory.rgc, "set_max_heap_size", sizes.append)
    memory.install(800 * M)
    assert sizes == [700 * M]                       # the soft limit: 7/8
    assert memory.grant_reserve()
    assert sizes == [700 * M, 800 * M]
    assert not memory.grant_reserve()
    memory.lift_limit()
    assert sizes[-1] == 0


def test_largest_new_is_half_the_limit(policy, monkeypatch):
    monkeypatch.setattr(memory.rgc, "set_max_heap_size", lambda n: None)
    memory.install(1 * G)
    assert memory.max_new_bytes() == 512 * M


@pytest.mark.parametrize("total, nursery, decay", [
    (64 * 1024 * 1024, memory.NURSERY_MIN, memory.JIT_DECAY_SMALL),
    (16 * 1024 * 1024 * 1024, memory.NURSERY_SIZE, memory.JIT_DECAY),
])
def test_jit_decay_goes_with_the_nursery(total, nursery, decay):
    assert memory.nursery_size(float(total)) == nursery
    assert memory.jit_decay(float(total)) == decay
