"""Git plumbing for `promptls diff`: the base commit, what changed since it, and its blobs.

git is run as a program (never through a shell) with options that keep it from running anything a
checkout could name. A folder someone handed over may carry its own `.git/config`, and commands that
look at the working tree would run what it names: `core.fsmonitor`, a `filter.<name>.clean` or
`.process` driver picked by `.gitattributes`, external diff drivers and textconv, commands inside
submodules. Every git call here overrides those on its command line (which wins over any config
file): fsmonitor off, each configured filter driver emptied, `--no-ext-diff --no-textconv
--ignore-submodules=all`, no optional locks, no pager. Base blobs are read through one long-lived
`git cat-file --batch` process, streamed to disk in chunks.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

CHUNK = 1 << 20
GIT_TIMEOUT_S = 120.0

MODE_SYMLINK = "120000"
MODE_SUBMODULE = "160000"
REGULAR_MODES = frozenset({"100644", "100755"})


class GitError(Exception):
    """git is missing, the folder is not a repository, or a revision does not exist."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", LC_ALL="C")
    return env


SAFE_OPTIONS = ("-c", "core.quotePath=false", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")
_filter_overrides: dict[Path, tuple[str, ...]] = {}


def _no_filters(repo: Path) -> tuple[str, ...]:
    """`-c filter.<name>.clean= -c filter.<name>.process=` for every filter driver any config names,
    so no `.gitattributes` line can make git run one (an empty command is no filter)."""
    if repo not in _filter_overrides:
        try:
            proc = subprocess.run(["git", "-C", str(repo), *SAFE_OPTIONS, "config", "-z", "--get-regexp", r"^filter\."],
                                  capture_output=True, env=_env(), timeout=GIT_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired):
            proc = None
        names = set()
        for record in (proc.stdout.split(b"\0") if proc is not None else []):
            key = os.fsdecode(record.split(b"\n", 1)[0])
            if key.startswith("filter.") and key.count(".") >= 2:
                names.add(key[len("filter."):key.rindex(".")])
        opts: list[str] = []
        for name in sorted(names):
            opts += ["-c", f"filter.{name}.clean=", "-c", f"filter.{name}.process=",
                     "-c", f"filter.{name}.required=false"]
        _filter_overrides[repo] = tuple(opts)
    return _filter_overrides[repo]


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run `git -C repo args...`; raises GitError with git's own message when it fails."""
    cmd = ["git", "-C", str(repo), *SAFE_OPTIONS, *_no_filters(repo), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, env=_env(), timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed (promptls diff runs git)") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} took longer than {GIT_TIMEOUT_S:.0f} s") from exc
    if check and proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed (exit {proc.returncode})")
    return proc


def toplevel(path: Path) -> Path:
    folder = path if path.is_dir() else path.parent
    try:
        out = git(folder, "rev-parse", "--show-toplevel").stdout
    except GitError as exc:
        raise GitError(f"{path}: not inside a git repository ({exc})") from exc
    return Path(os.fsdecode(out.rstrip(b"\n"))).resolve()


def commit_of(repo: Path, ref: str) -> str | None:
    """The commit id `ref` names, or None."""
    proc = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    return (proc.stdout.decode().strip() or None) if proc.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class Base:
    """The revision the working tree is compared with. `label` is what the user reads."""

    commit: str
    label: str

    @property
    def short(self) -> str:
        return self.commit[:10]


def default_branch(repo: Path) -> str | None:
    """The remote default branch: CI's PR base (`GITHUB_BASE_REF`), else `origin/HEAD`, else origin/main|master."""
    base_ref = os.environ.get("GITHUB_BASE_REF", "").strip()
    candidates = [f"origin/{base_ref}"] if base_ref else []
    proc = git(repo, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False)
    if proc.returncode == 0:
        candidates.append(proc.stdout.decode().strip().removeprefix("refs/remotes/"))
    candidates += ["origin/main", "origin/master"]
    return next((c for c in candidates if commit_of(repo, c)), None)


def resolve_base(repo: Path, ref: str | None) -> Base:
    """`ref` as given, or the merge-base of HEAD with the remote default branch, or HEAD."""
    if ref is not None:
        commit = commit_of(repo, ref)
        if commit is None:
            raise GitError(f"--base {ref}: no such commit in {repo}")
        return Base(commit, ref)
    head = commit_of(repo, "HEAD")
    if head is None:
        raise GitError(f"{repo}: no commits yet, nothing to compare with")
    branch = default_branch(repo)
    if branch is not None:
        proc = git(repo, "merge-base", "HEAD", branch, check=False)
        if proc.returncode == 0 and (mb := proc.stdout.decode().strip()):
            return Base(mb, f"merge-base with {branch}")
    return Base(head, "HEAD")


@dataclass(frozen=True, slots=True)
class Change:
    """One path that differs between the base and the working tree. `status` is one of
    added | removed | modified | renamed; `old` is the base path (None when added)."""

    status: str
    path: str | None  # working-tree path (None when removed)
    old: str | None


def changes(repo: Path, base: str) -> list[Change]:
    """Tracked changes (working tree against `base`, renames detected) plus untracked, unignored files."""
    out = git(repo, "diff", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all", "--no-color",
              "--name-status", "-z", "-M", base, "--").stdout
    fields = [os.fsdecode(f) for f in out.split(b"\0")]
    result: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[0] in "RC":
            old, new = fields[i + 1], fields[i + 2]
            result.append(Change("renamed" if status[0] == "R" else "added", new, old if status[0] == "R" else None))
            i += 3
            continue
        path = fields[i + 1]
        i += 2
        if status[0] == "A":
            result.append(Change("added", path, None))
        elif status[0] == "D":
            result.append(Change("removed", None, path))
        else:  # M, T (type change), U (unmerged)
            result.append(Change("modified", path, path))
    untracked = git(repo, "ls-files", "-z", "--others", "--exclude-standard").stdout
    result += [Change("added", os.fsdecode(p), None) for p in untracked.split(b"\0") if p]
    return result


@dataclass(frozen=True, slots=True)
class Entry:
    mode: str
    oid: str
    size: int | None  # None for submodules


def tree(repo: Path, commit: str) -> dict[str, Entry]:
    """Every file of `commit`: repository-relative POSIX path → (mode, blob id, size)."""
    out = git(repo, "ls-tree", "-r", "-l", "-z", "--full-tree", commit).stdout
    entries: dict[str, Entry] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, _kind, oid, size = meta.split()
        entries[os.fsdecode(name)] = Entry(mode.decode(), oid.decode(), int(size) if size.isdigit() else None)
    return entries


class BlobReader:
    """One `git cat-file --batch` process for every blob of a run."""

    def __init__(self, repo: Path) -> None:
        try:
            self._proc = subprocess.Popen(["git", "-C", str(repo), *SAFE_OPTIONS, "cat-file", "--batch"],
                                          stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
        except FileNotFoundError as exc:
            raise GitError("git is not installed (promptls diff runs git)") from exc

    def _request(self, oid: str) -> int:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(oid.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode().split()
        if len(header) != 3 or header[1] != "blob":
            raise GitError(f"cannot read blob {oid}: {' '.join(header) or 'git cat-file ended'}")
        return int(header[2])

    def chunks(self, oid: str) -> Iterator[bytes]:
        """The blob's bytes in chunks (the whole blob must be consumed)."""
        assert self._proc.stdout is not None
        left = self._request(oid)
        while left:
            chunk = self._proc.stdout.read(min(CHUNK, left))
            if not chunk:
                raise GitError(f"git cat-file ended while reading {oid}")
            left -= len(chunk)
            yield chunk
        self._proc.stdout.read(1)  # the newline after the content

    def read(self, oid: str) -> bytes:
        return b"".join(self.chunks(oid))

    def copy_to(self, oid: str, out: BinaryIO) -> None:
        for chunk in self.chunks(oid):
            out.write(chunk)

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def inside(rel: str) -> str | None:
    """`rel` normalised as a repository path, or None when it leaves the repository."""
    parts: list[str] = []
    for part in PurePosixPath(rel).parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part == "/":
            return None
        else:
            parts.append(part)
    return "/".join(parts) or None
