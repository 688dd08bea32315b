"""CLIP embeddings: model loading, image validation and decode, dynamic batching, blob store.

Pure modules; the Dramatiq actors that use them live in ``actors/embed/actor.py`` (lead).
"""
