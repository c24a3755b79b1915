"""The pristine starters, whatever a working copy holds now.

Each exercise.toml records its starter by git blob id (``starter_blob``: the
id `git hash-object` gives the file). `kata reset` and `kata compare --diff`
read the starter from git's object store by that id, so neither a student's
commits nor an instructor's own edits of ``exercises/`` change what "the
starter" means; any clone whose history holds the starter has the object.
"""

from __future__ import annotations

import hashlib
import subprocess

from harness.catalog import KATA_ROOT, Exercise, KataError


def blob_id(data: bytes) -> str:
    """Git's object id of a file with this content (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def recorded_blob(exercise: Exercise) -> str:
    blob = exercise.spec.starter_blob
    if not isinstance(blob, str):
        raise KataError(f"{exercise.name}/exercise.toml records no starter_blob (the git blob id of the starter)")
    return blob


def pristine(exercise: Exercise) -> bytes:
    """The starter as the kata shipped it: from the working copy if unchanged there, else from git."""
    blob = recorded_blob(exercise)
    shipped = exercise.folder / exercise.work_file
    try:
        data = shipped.read_bytes()
        if blob_id(data) == blob:
            return data
    except OSError:
        pass
    try:
        proc = subprocess.run(["git", "-C", str(KATA_ROOT), "cat-file", "blob", blob], capture_output=True, check=False)
    except FileNotFoundError:
        raise KataError(f"{shipped} was changed, and git (which keeps the pristine starter) is not installed") from None
    if proc.returncode != 0 or blob_id(proc.stdout) != blob:
        raise KataError(
            f"{shipped} was changed, and the pristine starter (git blob {blob[:12]}) is not in the git history "
            f"of {KATA_ROOT}: take the file from a fresh copy of the kata"
        )
    return proc.stdout
