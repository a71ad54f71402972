"""The language server: pygls wiring plus one module per feature."""
