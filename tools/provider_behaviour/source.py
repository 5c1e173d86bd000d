"""Where provider source is read from: a work tree on disk, or one commit of a git directory
(a bare mirror without work tree is enough), through one `git cat-file --batch` process."""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath
from typing import Protocol


class SourceError(RuntimeError):
    """The checkout cannot be read."""


class Source(Protocol):
    label: str

    def files(self) -> list[PurePosixPath]: ...

    def read(self, path: PurePosixPath) -> str: ...


class WorkTree:
    """Files of a directory on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)
        self._files: list[PurePosixPath] | None = None

    def files(self) -> list[PurePosixPath]:
        if self._files is None:
            self._files = sorted(
                PurePosixPath(p.relative_to(self.root).as_posix())
                for p in self.root.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(self.root).parts
            )
        return self._files

    def read(self, path: PurePosixPath) -> str:
        return (self.root / path).read_text(encoding="utf-8", errors="replace")


class GitTree:
    """Files of one commit of a git directory (bare or not)."""

    def __init__(self, git_dir: Path, rev: str) -> None:
        self.git_dir = git_dir
        self.rev = rev
        self.label = f"{git_dir}@{rev}"
        self._files: list[PurePosixPath] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), *args],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise SourceError(f"git {' '.join(args)} in {self.git_dir}: {result.stderr.strip()}")
        return result.stdout

    def files(self) -> list[PurePosixPath]:
        if self._files is None:
            out = self.git("ls-tree", "-r", "--name-only", "-z", self.rev)
            self._files = sorted(PurePosixPath(p) for p in out.split("\0") if p)
        return self._files

    def read(self, path: PurePosixPath) -> str:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"{self.rev}:{path}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode().split()
        if len(header) != 3:
            raise SourceError(f"{self.label}: cannot read {path} ({' '.join(header)})")
        data = self._proc.stdout.read(int(header[2]) + 1)[:-1]
        return data.decode("utf-8", errors="replace")

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None


def is_git_dir(path: Path) -> bool:
    """A bare repository or a `.git` directory (not a work tree)."""
    return (path / "HEAD").is_file() and (path / "objects").is_dir()
