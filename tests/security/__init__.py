"""A package, so that its `scope="package"` stack stops when these tests end rather than with the
session: left running, its consumers would read (and answer) every later test's topics."""
