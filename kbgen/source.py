"""Read the files of a Kratos checkout: a git repository (bare or with a work tree) at a ref, or a plain
directory of files (no git). Shared by the fact generator and kbgen/versions.py."""

from __future__ import annotations

import subprocess
from pathlib import Path


class SourceError(Exception):
    """The checkout or the ref cannot be read."""


class Git:
    """Reads blobs through one long-running `git cat-file --batch`."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.proc = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def run(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True, text=True).stdout

    def blob(self, rev: str, path: str) -> tuple[str, bytes] | None:
        """(blob sha, content) of rev:path, or None when the path does not exist at rev."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{rev}:{path}\n".encode())
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().decode().split()
        if len(header) != 3:  # "<rev:path> missing" / "ambiguous"
            return None
        sha, kind, size = header
        data = self.proc.stdout.read(int(size))
        self.proc.stdout.read(1)  # trailing newline
        if kind != "blob":
            return None
        return sha, data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()


def is_git_repo(path: Path) -> bool:
    """A clone (has `.git`) or a bare repository (HEAD, objects/ and refs/ at the top)."""
    return (path / ".git").exists() or (
        (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()
    )


class Checkout:
    """The files of one Kratos revision. `ref` defaults to HEAD for git repositories; a plain directory
    (no git) is read as it is on disk and has no ref or commit."""

    def __init__(self, path: Path, ref: str | None = None):
        self.path = Path(path)
        if not self.path.is_dir():
            raise SourceError(f"not a directory: {self.path}")
        self.git: Git | None = None
        self.ref: str | None = None
        self.commit = ""
        self._files: list[str] | None = None
        self._cache: dict[str, bytes | None] = {}
        if is_git_repo(self.path):
            self.ref = ref or "HEAD"
            try:
                self.commit = subprocess.run(
                    ["git", "-C", str(self.path), "rev-parse", "--verify", "--quiet", f"{self.ref}^{{commit}}"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            except (subprocess.CalledProcessError, FileNotFoundError) as exc:
                raise SourceError(f"{self.ref!r} is not a commit in {self.path}") from exc
            self.git = Git(self.path)
        elif ref is not None:
            raise SourceError(f"--ref needs a git repository; {self.path} is a plain directory")

    def __enter__(self) -> Checkout:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.git is not None:
            self.git.close()
            self.git = None

    def files(self) -> list[str]:
        """Every file path of the revision, `/`-separated, sorted."""
        if self._files is None:
            if self.git is not None:
                out = self.git.run("ls-tree", "-r", "-z", "--name-only", self.commit)
                self._files = sorted(f for f in out.split("\0") if f)
            else:
                self._files = sorted(
                    p.relative_to(self.path).as_posix()
                    for p in self.path.rglob("*")
                    if p.is_file() and ".git" not in p.relative_to(self.path).parts
                )
        return self._files

    def read(self, path: str) -> bytes | None:
        """The content of `path`, or None when it does not exist."""
        if path not in self._cache:
            if self.git is not None:
                got = self.git.blob(self.commit, path)
                self._cache[path] = got[1] if got else None
            else:
                p = self.path / path
                self._cache[path] = p.read_bytes() if p.is_file() else None
        return self._cache[path]

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8", errors="replace")
