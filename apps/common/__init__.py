"""Code shared by several apps."""
