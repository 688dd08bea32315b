"""The vector index: one ``VectorStore`` interface over Qdrant Edge, server and local mode."""
