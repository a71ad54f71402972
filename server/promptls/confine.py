"""Attachment paths: where a reference points, and reaching it without leaving the allowed roots.

Safety first: a cloned repository must not be able to make promptls read (and later upload)
`~/.ssh/id_rsa`. A local reference is resolved (symlinks included) and must land inside the project
root or an extra root the user allowed before the file is even stat-ed. It is then reached from that
root one component at a time with `dir_fd` and `O_NOFOLLOW | O_DIRECTORY`, so a folder swapped for a
link between the check and the open cannot lead outside; only regular files are opened (never a FIFO
or a device, which could block or never end).

Path rules, decided here and documented in the README:
- relative paths are relative to the prompt file's folder; absolute paths are taken as written;
- a leading `~` is expanded to the home folder and then confined like any other path (so it is
  refused unless the home folder is an allowed root); `~user` that names no user stays literal;
- everything else is literal: no URL-decoding (`%2e%2e` is a file name), no Unicode normalisation
  (a lookalike dot is not a dot), backslashes are ordinary characters on POSIX.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path


def resolve_ref(ref: str, base_dir: Path) -> Path | str:
    """The absolute, symlink-free path `ref` names, or why there is none. Touches only metadata."""
    path = Path(ref)
    if ref.startswith("~"):
        with contextlib.suppress(RuntimeError):  # `~user` naming no user stays literal
            path = path.expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        # realpath, not Path.resolve: the latter also stats the final target, wherever it is
        return Path(os.path.realpath(path))
    except ValueError:
        return "the path contains a NUL character"
    except (OSError, RuntimeError) as exc:
        return str(exc)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def descend(root: Path, path: Path) -> tuple[int, str]:
    """An fd of the folder holding `path` and the file's name in it, reached from `root` one component at
    a time without following links: a component swapped for a symlink after `_resolve` fails (ELOOP)
    instead of leading outside the root. The caller closes the fd."""
    parts = path.relative_to(root).parts
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "is a directory")
    fd = os.open(root, _DIR_FLAGS)  # the root is the user's (resolved); everything below it is the repository's
    try:
        for part in parts[:-1]:
            child = os.open(part, _DIR_FLAGS | NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def open_error(exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return "it, or a folder on its path, was replaced by a link while it was being opened"
    return exc.strerror or str(exc)


def resolve_root(root: Path) -> Path:
    try:
        return Path(root).expanduser().resolve(strict=False)
    except (OSError, RuntimeError, ValueError):
        return Path(root).absolute()


def not_regular(mode: int) -> str:
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link that does not resolve (a loop?)"
    return "a special file"

