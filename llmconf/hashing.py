"""sha256 and blake2b without hashlib: importing hashlib starts OpenSSL, which cost a cached
plan more than its work at 10 worktrees. CPython's own builtin modules give the same digests."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's, without importing typing: 15 M instructions of every run
if TYPE_CHECKING:  # the same functions, as hashlib types them
    from hashlib import blake2b, sha256
else:
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # CPython 3.12 and later
        except ImportError:
            from hashlib import sha256
    try:
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b

__all__ = ["blake2b", "sha256"]
