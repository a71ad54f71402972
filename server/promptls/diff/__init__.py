"""`promptls diff`: the token and $ effect of a change against a git base, for terminals and pull requests.

`git.py` talks to git, `revision.py` writes the base revision's files for the engine, `run.py` pairs
and counts both sides, `compare.py` is the pure comparison, `render.py` the table, Markdown and JSON.
"""
