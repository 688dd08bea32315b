"""The content-addressed blob store."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from actors.embed.blobs import BlobNotFound, BlobStore, InvalidBlobKey


def test_the_key_is_the_sha256_and_the_bytes_round_trip(tmp_path) -> None:
    store = BlobStore(tmp_path)
    ref = store.put(b"hello image")
    assert ref.key == hashlib.sha256(b"hello image").hexdigest()
    assert ref.created and ref.size == 11
    assert store.get(ref.key) == b"hello image"
    assert store.path(ref.key).parent.parent.name == ref.key[:2]


def test_the_same_content_twice_is_stored_once(tmp_path) -> None:
    store = BlobStore(tmp_path)
    first, second = store.put(b"x" * 1000), store.put(b"x" * 1000)
    assert first.key == second.key
    assert (first.created, second.created) == (True, False)
    assert store.count() == 1


def test_concurrent_writers_of_one_content_leave_one_complete_file(tmp_path) -> None:
    store = BlobStore(tmp_path)
    data = bytes(range(256)) * 4096
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: store.put(data).key, range(16)))
    assert len(keys) == 1 and store.count() == 1
    assert store.get(keys.pop()) == data
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_key_that_is_not_a_sha256_is_refused_before_touching_the_disk(tmp_path) -> None:
    store = BlobStore(tmp_path)
    with pytest.raises(InvalidBlobKey):
        store.get("../../etc/passwd")


def test_a_missing_blob_and_a_deleted_blob_raise_not_found(tmp_path) -> None:
    store = BlobStore(tmp_path)
    key = store.put(b"gone soon").key
    assert store.delete(key) and not store.exists(key)
    assert not store.delete(key)
    with pytest.raises(BlobNotFound):
        store.get(key)
