"""A revision's prompt files and what they read, written under a temporary folder.

The engine reads prompt files and attachments from disk, confined to the project root. So the base
side of a diff is written to a private temporary folder that stands for the repository's top level:
each prompt file, every attachment it names (at the same revision), and the project's config files.
The engine then counts it exactly as `promptls count` would in a checkout of that revision, with the
same confinement: a link is written as a link and the engine decides whether it may follow it; a blob
larger than the engine reads is written as a sparse file of the same size, so the same finding comes out.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from ..config import CONFIG_FILE
from .git import MODE_SYMLINK, REGULAR_MODES, BlobReader, Entry, inside, tree

# Above this the engine refuses a file from its size alone (attachments: the 32 MB request limit;
# prompt files: 20 MB), so larger blobs are never read out of git.
MAX_BLOB_READ = 32 * 1024 * 1024
MAX_LINK_DEPTH = 8
CONFIG_FILES = (CONFIG_FILE, "pyproject.toml")


def attachment_refs(text: str, path: Path, default_model: str) -> list[str]:
    """The local paths a prompt file names (attachments and image/document blocks), as written."""
    from ..document import parse_document
    from ..schema import to_spec

    doc = parse_document(text, path)
    if doc.data is None:
        return []
    spec, _ = to_spec(doc, default_model)
    if spec is None:
        return []
    refs = [a.ref for a in spec.attachments]
    blocks = [*(spec.system if isinstance(spec.system, list) else []),
              *(b for m in spec.messages if isinstance(m.content, list) for b in m.content)]
    refs += [b.value for b in blocks if b.kind in ("image", "document") and isinstance(b.value, str)]
    return [r for r in refs if r and not r.lower().startswith(("http://", "https://"))]


def repo_relative(prompt_rel: str, ref: str) -> str | None:
    """Where `ref`, written in the prompt file at `prompt_rel`, lands in the repository (None: outside,
    absolute or `~`; such paths are not versioned, so both sides read the same thing)."""
    if ref.startswith(("/", "~")):
        return None
    return inside(str(PurePosixPath(prompt_rel).parent / ref))


class Revision:
    """The files of one commit that a diff needs, materialised on demand under `root`."""

    def __init__(self, repo: Path, commit: str) -> None:
        self.repo, self.commit = repo, commit
        self.entries: dict[str, Entry] = tree(repo, commit)
        self.root = Path(tempfile.mkdtemp(prefix="promptls-diff-")).resolve()
        self._reader: BlobReader | None = None
        self._written: set[str] = set()

    def __enter__(self) -> Revision:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        shutil.rmtree(self.root, ignore_errors=True)

    def reader(self) -> BlobReader:
        if self._reader is None:
            self._reader = BlobReader(self.repo)
        return self._reader

    def has(self, rel: str) -> bool:
        return rel in self.entries

    def read(self, rel: str, limit: int = MAX_BLOB_READ) -> bytes | None:
        """A regular file's bytes at this revision (None: absent, a link, or larger than `limit`)."""
        entry = self.entries.get(rel)
        if entry is None or entry.mode not in REGULAR_MODES or (entry.size or 0) > limit:
            return None
        return self.reader().read(entry.oid)

    def path(self, rel: str) -> Path:
        return self.root.joinpath(*PurePosixPath(rel).parts)

    def materialize(self, rel: str, depth: int = 0) -> Path | None:
        """Write `rel` as it is at this revision; None when the revision has no such file."""
        entry = self.entries.get(rel)
        if entry is None:
            return None
        dest = self.path(rel)
        if rel in self._written:
            return dest
        self._written.add(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if entry.mode == MODE_SYMLINK:
            target = os.fsdecode(self.reader().read(entry.oid))
            with contextlib.suppress(OSError):
                os.symlink(target, dest)
            linked = None if target.startswith("/") else inside(str(PurePosixPath(rel).parent / target))
            if linked is not None and depth < MAX_LINK_DEPTH:
                self.materialize(linked, depth + 1)
            return dest
        if entry.mode not in REGULAR_MODES:  # a submodule: not a file at all
            return None
        with open(dest, "wb") as out:
            if (entry.size or 0) > MAX_BLOB_READ:
                out.truncate(entry.size or 0)  # the engine refuses it from its size; never read it
            else:
                self.reader().copy_to(entry.oid, out)
        return dest

    def materialize_prompt(self, rel: str, default_model: str) -> tuple[Path | None, list[str]]:
        """Write a prompt file and every attachment it names; returns its path and those attachments'
        repository paths."""
        dest = self.materialize(rel)
        if dest is None or not dest.is_file() or dest.is_symlink():
            return dest, []
        text = dest.read_bytes()[:MAX_BLOB_READ].decode("utf-8", "replace").removeprefix("\ufeff")
        used = []
        for ref in attachment_refs(text, dest, default_model):
            target = repo_relative(rel, ref)
            if target is not None and self.materialize(target) is not None:
                used.append(target)
        return dest, used

    def materialize_config(self, root_rel: str) -> Path:
        """The config root for this revision (the same folder relative to the repository)."""
        folder = self.path(root_rel) if root_rel else self.root
        folder.mkdir(parents=True, exist_ok=True)
        for name in CONFIG_FILES:
            self.materialize(f"{root_rel}/{name}" if root_rel else name)
        return folder
