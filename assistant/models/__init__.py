"""Models: the starter set, the registry of installed models, GGUF checks and metadata."""
