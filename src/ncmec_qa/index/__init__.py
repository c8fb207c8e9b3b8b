"""The index: the build, the generations it writes, the store that reads them, integrity, vectors and the encoders."""
