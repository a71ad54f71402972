"""`promptls diff`: which prompt files changed since the base, both sides counted by the one engine.

The working tree is counted in place; the base side is written to a temporary folder (see
`revision.py`) with its own config files and counted there, so each side's numbers are what
`promptls count` prints in a checkout of that revision. Both sides go through the same engine
run, so they share the count cache and the estimator's text cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..config import Config, find_root, load_config
from ..model import FileReport, Finding
from ..workspace import DEFAULT_INCLUDE, discover, is_prompt_file, matches_include
from . import git
from .compare import ADDED, MODIFIED, REMOVED, RENAMED, FileDiff, Totals, compare, totals
from .revision import Revision, attachment_refs, repo_relative

# (files, config) -> (reports in the same order, api state); the engine run `promptls count` uses.
Runner = Callable[[list[Path], Config], tuple[list[FileReport], str]]


@dataclass(slots=True)
class DiffResult:
    repo: Path
    base: git.Base
    head: str | None  # HEAD's commit (the working tree sits on it)
    files: list[FileDiff]
    totals: Totals
    mode: str
    api_state: str  # the working-tree side's counter state (exact, no-key, offline, ...)
    config_findings: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class _Pair:
    status: str
    new: str | None  # working-tree path (repo-relative)
    old: str | None  # base path
    attachments: set[str] = field(default_factory=set)


def engine_runner(files: list[Path], config: Config) -> tuple[list[FileReport], str]:
    """Count with the CLI's engine run: estimates, then exact counts through the API when a key is set."""
    from ..cli import _run_engine  # the one orchestration `promptls count` and `check` use

    reports, api = _run_engine(files, config, parts=True)
    return reports, str(api.state)


def run_diff(paths: Sequence[Path], *, base_ref: str | None = None, root: Path | None = None,
             mode: str | None = None, model: str | None = None, runner: Runner = engine_runner) -> DiffResult:
    """Compare the prompt files under `paths` in the working tree with `base_ref` (see `git.resolve_base`)."""
    paths = list(paths) or [Path(".")]
    for p in paths:
        if not p.exists():
            raise git.GitError(f"{p}: no such file or directory")
    repo = git.toplevel(paths[0].resolve())
    root = (root or find_root(paths[0])).resolve()
    try:
        root_rel = root.relative_to(repo).as_posix()
    except ValueError:
        raise git.GitError(f"the project root {root} is not inside the repository {repo}") from None
    root_rel = "" if root_rel == "." else root_rel
    config, config_findings = _config(root, mode, model)
    base = git.resolve_base(repo, base_ref)
    head = git.commit_of(repo, "HEAD")
    scopes = [_scope(repo, p) for p in paths]

    def wanted(rel: str | None) -> bool:
        if rel is None or not _is_prompt(rel, root_rel, config.include):
            return False
        parts = PurePosixPath(rel).parts
        if any(part in config.exclude for part in parts[:-1]):
            return False
        return any(s == "" or rel == s or rel.startswith(s + "/") for s in scopes)

    pairs, changed = _pairs(git.changes(repo, base.commit), wanted)
    default_model = config.default_model or _default_model()
    _unchanged_prompts_reading(repo, paths, config, pairs, changed, wanted, default_model)

    with Revision(repo, base.commit) as rev:
        base_root = rev.materialize_config(root_rel)
        base_config, _ = _config(base_root, mode, model)
        before_paths: dict[str, Path] = {}
        for pair in pairs:
            if pair.old is None:
                continue
            dest, used = rev.materialize_prompt(pair.old, base_config.default_model or default_model)
            if dest is not None:
                before_paths[pair.old] = dest
            pair.attachments |= changed.intersection(used)
        after_paths = {p.new: repo / p.new for p in pairs if p.new is not None}
        for pair in pairs:
            if pair.new is not None and (text := _read_text(after_paths[pair.new])) is not None:
                refs = attachment_refs(text, after_paths[pair.new], default_model)
                pair.attachments |= changed.intersection(filter(None, (repo_relative(pair.new, r) for r in refs)))
        after = _count(runner, list(after_paths.values()), config)
        before = _count(runner, list(before_paths.values()), base_config)
        for report in before.reports.values():
            _relocate(report, str(rev.root), str(repo))

    files = []
    for pair in pairs:
        b = before.reports.get(str(before_paths[pair.old])) if pair.old in before_paths else None
        a = after.reports.get(str(after_paths[pair.new])) if pair.new is not None else None
        for report, rel in ((b, pair.old), (a, pair.new)):
            if report is not None and rel is not None:
                report.path = rel
                for f in report.findings:
                    f.path = rel
        status = pair.status
        if status == MODIFIED and b is None:
            status = ADDED
        files.append(compare(status, pair.new or pair.old or "", pair.old, b, a, sorted(pair.attachments)))
    files.sort(key=lambda f: f.path)
    return DiffResult(repo, base, head, files, totals(files), config.mode, after.state, config_findings)


@dataclass(slots=True)
class _Counted:
    reports: dict[str, FileReport]
    state: str


def _count(runner: Runner, files: list[Path], config: Config) -> _Counted:
    if not files:
        return _Counted({}, "offline" if config.mode == "offline" else "none")
    reports, state = runner(files, config)
    return _Counted({r.path: r for r in reports}, state)


def _config(root: Path, mode: str | None, model: str | None) -> tuple[Config, list[Finding]]:
    config, findings = load_config(root)
    config = config.with_mode(mode)
    if model:
        config = replace(config, default_model=model)
    return config, findings


def _default_model() -> str:
    from ..catalog import DEFAULT_MODEL

    return DEFAULT_MODEL


def _scope(repo: Path, path: Path) -> str:
    try:
        rel = path.resolve().relative_to(repo).as_posix()
    except ValueError:
        raise git.GitError(f"{path} is not inside the repository {repo}") from None
    return "" if rel == "." else rel


def _pairs(changes: list[git.Change], wanted: Callable[[str | None], bool]) -> tuple[list[_Pair], set[str]]:
    """Prompt files that changed, and every changed path (an attachment may be among them)."""
    pairs: list[_Pair] = []
    changed: set[str] = set()
    for c in changes:
        changed.update(p for p in (c.path, c.old) if p)
        old_ok, new_ok = wanted(c.old), wanted(c.path)
        if c.status == RENAMED and old_ok and new_ok:
            pairs.append(_Pair(RENAMED, c.path, c.old))
        elif c.status == MODIFIED and new_ok:
            pairs.append(_Pair(MODIFIED, c.path, c.old))
        else:  # a rename into or out of the prompt-file names is an add or a remove
            if old_ok:
                pairs.append(_Pair(REMOVED, None, c.old))
            if new_ok:
                pairs.append(_Pair(ADDED, c.path, None))
    return pairs, changed


def _unchanged_prompts_reading(repo: Path, paths: list[Path], config: Config, pairs: list[_Pair],
                               changed: set[str], wanted: Callable[[str | None], bool], default_model: str) -> None:
    """Add the prompt files whose own text is unchanged but that read a changed attachment."""
    seen = {p.new for p in pairs} | {p.old for p in pairs}
    others = changed - seen
    if not others:
        return
    names = {PurePosixPath(p).name for p in others}
    for path in discover(paths, config.exclude, config.include, config.root):
        rel = path.resolve().relative_to(repo).as_posix() if path.resolve().is_relative_to(repo) else None
        if rel is None or rel in seen or not wanted(rel):
            continue
        text = _read_text(path)
        if text is None or not any(n in text for n in names):  # a file can only name what it mentions
            continue
        targets = {repo_relative(rel, r) for r in attachment_refs(text, path, default_model)}
        hit = others.intersection(t for t in targets if t)
        if hit:
            pairs.append(_Pair(MODIFIED, rel, rel, set(hit)))


def _is_prompt(rel: str, root_rel: str, include: tuple[str, ...]) -> bool:
    """A prompt file as `promptls count` sees one: the file-name suffixes, or the config's include globs
    (relative to the project root)."""
    if include == DEFAULT_INCLUDE:
        return is_prompt_file(rel)
    if root_rel:
        if not rel.startswith(root_rel + "/"):
            return False
        rel = rel[len(root_rel) + 1:]
    return matches_include(rel, include)


def _read_text(path: Path) -> str | None:
    from ..engine import read_prompt_file

    text, _ = read_prompt_file(path)
    return text


def _relocate(report: FileReport, tmp: str, repo: str) -> None:
    """Base findings name the temporary folder; say the repository instead."""
    for f in report.findings:
        if tmp in f.message:
            f.message = f.message.replace(tmp, repo)
