"""Documents: parsers, chunker, embedder, vector store, keyword index, hybrid retriever, indexer."""
