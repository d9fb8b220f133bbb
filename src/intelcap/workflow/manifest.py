"""Provenance manifest: what a run was made from.

`results/manifest.json` records the sha256 of every raw input file (CSMAR tables, IFR files, every annual
report), the versions of the packages that compute the results, a hash of the resolved configuration, the
seeds and the git commit when there is one. The content is deterministic (sorted, no timestamps), so two runs on
the same inputs write byte-identical manifests. Before overwriting, the previous manifest is read and every raw
file whose hash changed (or that appeared or disappeared) is named in a warning: a user's extract that changed
silently is the most common reason a replication stops matching.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path

from intelcap import atomic

log = logging.getLogger("intelcap.workflow.manifest")

PACKAGES = ("intelcap", "pandas", "numpy", "scipy", "pyfixest", "snakemake", "pyarrow")
CHUNK = 1 << 20


def _sha256_size(path: str | os.PathLike) -> tuple[str, int]:
    """Streaming sha256 (1 MiB chunks: memory stays flat for any number or size of reports) and size in bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest(), size


def sha256_file(path: str | os.PathLike) -> str:
    return _sha256_size(path)[0]


def _walk(root: str) -> Iterator[os.DirEntry]:
    """The files below `root` as `os.scandir` entries; hidden files and folders (atomic-write temporaries)
    skipped, symlinked folders not entered (as `Path.rglob`)."""
    stack = [root]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file():
                    yield entry


def _files(paths: Iterable[str | os.PathLike]) -> dict[str, str | None]:
    """{posix path: its resolved path when known without resolving it, else None}, sorted. Strings, not
    `Path`s: a report folder holds tens of thousands of files, and pathlib's parsing cost more than hashing."""
    out: dict[str, str | None] = {}
    for p in map(Path, paths):
        if p.is_dir():
            root, real_root = str(p), str(p.resolve())
            for entry in _walk(root):
                # a regular file below a resolved folder resolves to that folder joined with its relative path
                rel = entry.path[len(root) + 1 :]
                out[Path(entry.path).as_posix()] = None if entry.is_symlink() else f"{real_root}/{rel}"
        else:
            out.setdefault(p.as_posix(), None)
    return dict(sorted(out.items()))


def expand_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given; folders are walked (sorted), skipping hidden files such as atomic-write temporaries."""
    return [Path(f) for f in _files(paths)]


def _key(path: str, base: str | None, real: str | None = None) -> str:
    """The manifest's name of a file: relative to the resolved `base` when below it, else as given."""
    if base is not None:
        real = real or str(Path(path).resolve())
        if real.startswith(base + "/"):
            return real[len(base) + 1 :]
        if real == base:
            return "."
    return path


def hash_files(paths: Iterable[str | os.PathLike], base: str | os.PathLike | None = None) -> dict[str, dict]:
    base = str(Path(base).resolve()) if base is not None else None
    out = {}
    for f, real in _files(paths).items():
        digest, size = _sha256_size(f)
        out[_key(f, base, real)] = {"sha256": digest, "bytes": size}
    return out


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = ".".join(map(str, sys.version_info[:3]))
    return out


def _plain(obj):
    """Config as plain JSON types (Snakemake hands over its own Namedlist/dict subclasses)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def config_hash(config: dict) -> str:
    text = json.dumps(_plain(config), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(cwd: str | os.PathLike = ".") -> str | None:
    """HEAD commit (with '-dirty' if tracked files changed), or None without git or outside a repository."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return head.stdout.strip() + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def seeds(config: dict) -> dict[str, int]:
    """Every seed the run uses: the global one (synthetic data, permutations; per-pair seeds derive from it)."""
    return {"seed": int(config["seed"])} if "seed" in config else {}


def build_manifest(
    raw_files: Iterable[str | os.PathLike],
    config_files: Iterable[str | os.PathLike],
    config: dict,
    base: str | os.PathLike | None = None,
    commit: str | None = None,
) -> dict:
    return {
        "manifest_version": 1,
        "raw_inputs": hash_files(raw_files, base),
        "config_files": hash_files(config_files, base),
        "config_sha256": config_hash(config),
        "seeds": seeds(config),
        "packages": package_versions(),
        "git_commit": commit,
    }


def changed_inputs(previous: dict | None, current: dict) -> dict[str, list[str]]:
    """Raw inputs whose sha256 differs from the previous manifest, and those added or removed."""
    if not previous:
        return {"changed": [], "added": [], "removed": []}
    old = previous.get("raw_inputs", {})
    new = current.get("raw_inputs", {})
    return {
        "changed": sorted(k for k in new.keys() & old.keys() if new[k]["sha256"] != old[k]["sha256"]),
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
    }


def read_previous(path: str | os.PathLike) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def sidecar(target: str | os.PathLike) -> Path:
    """Hidden copy of the last manifest beside it. Snakemake deletes a job's outputs before running it, so the
    previous results/manifest.json is gone when the rule runs; the copy (not a declared output) survives."""
    target = Path(target)
    return target.with_name(f".{target.stem}.previous{target.suffix}")


def write_manifest(
    target: str | os.PathLike,
    raw_files: Iterable[str | os.PathLike],
    config_files: Iterable[str | os.PathLike],
    config: dict,
    base: str | os.PathLike | None = None,
    commit: str | None = None,
    previous: dict | None = None,
) -> dict:
    """Build the manifest, warn (log + stderr) about raw files that changed since `previous` (default: the
    manifest at `target`, else its hidden copy), write it and the copy atomically; returns the change report."""
    if previous is None:
        previous = read_previous(target) or read_previous(sidecar(target))
    base = base if base is not None else Path.cwd()
    current = build_manifest(raw_files, config_files, config, base, commit)
    diff = changed_inputs(previous, current)
    if any(diff.values()):
        parts = [f"{what}: {', '.join(files)}" for what, files in diff.items() if files]
        msg = (
            "intelcap warning: raw input files differ from the previous manifest "
            f"({'; '.join(parts)}); results will differ from the previous run's"
        )
        log.warning(msg)
        print(msg, file=sys.__stderr__, flush=True)
    text = json.dumps(current, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    atomic.write_text(target, text)
    atomic.write_text(sidecar(target), text)
    return diff


def step(job) -> None:
    """Workflow step for rule `provenance` (scripts/provenance.py): inputs `raw` (files), `reports` (folder),
    `config_files`; output `manifest`."""

    def as_list(v):
        return [] if v is None else [v] if isinstance(v, str) else list(v)

    raw = as_list(job.input.get("raw")) + as_list(job.input.get("reports"))
    diff = write_manifest(
        job.output["manifest"], raw, as_list(job.input.get("config_files")), job.config, commit=git_commit()
    )
    log.info("manifest written: %s; changes since the previous manifest: %s", job.output["manifest"], diff)
