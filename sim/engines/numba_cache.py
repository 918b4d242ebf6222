"""The compiled engine's machine-code cache (numba, ``cache=True``), kept honest: a damaged cache file (emptied,
cut short) is discarded and the code compiled again, with one line saying so; a cache that cannot be written is
said once, with where to point NUMBA_CACHE_DIR, instead of recompiling on every run without a word."""

from __future__ import annotations

import os
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

DAMAGED = (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError)
_said: set[str] = set()
_lock = threading.Lock()


def say_once(key: str, line: str) -> None:
    with _lock:
        if key in _said:
            return
        _said.add(key)
    print(line, file=sys.stderr, flush=True)


def cache_folder(dispatcher: Any) -> Path | None:
    """Where numba keeps ``dispatcher``'s compiled code (None if it does not cache)."""
    cache = getattr(dispatcher, "_cache", None)
    path = getattr(cache, "_cache_path", None)
    return Path(path) if path else None


def usable(module_file: str) -> bool:
    """Whether numba can keep compiled code for ``module_file`` anywhere (NUMBA_CACHE_DIR, the __pycache__ beside
    it, the user's cache folder), tried as numba tries them. If not, ``cache=True`` would fail at import; the engine
    then compiles without a cache, and says once that every run will compile again and where to point it."""
    from numba.core import caching

    def probe() -> None:  # a function of no consequence, to ask the locators where they would cache
        pass

    for cls in (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator):
        try:
            if cls.from_function(probe, module_file) is not None:
                return True
        except Exception:  # a locator that cannot say counts as no place to cache
            continue
    say_once("unwritable", "note: the compiled engine finds no writable folder for its machine code (beside "
             f"{Path(module_file).parent}, in NUMBA_CACHE_DIR or the home cache), so every run compiles it again "
             "(about 20 s): set NUMBA_CACHE_DIR to a writable folder, e.g. NUMBA_CACHE_DIR=/tmp/numba-cache")
    return False


def discard(dispatcher: Any, stem: str) -> int:
    """Remove the cache files of the module ``stem`` (e.g. ``compiled``) from ``dispatcher``'s cache folder."""
    folder = cache_folder(dispatcher)
    removed = 0
    for path in [] if folder is None else folder.glob(f"{stem}.*"):
        if path.suffix in (".nbi", ".nbc"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def call(dispatcher: Any, stem: str, *args: Any) -> Any:
    """``dispatcher(*args)``; if loading cached code fails (a damaged file), discard the cache folder that held it
    with one line and compile again. The engine's day calls the rules, compiled and cached beside their own module
    (sim/model), so a damaged file may be in another folder than ``dispatcher``'s: each folder found damaged is
    emptied of its numba files once, then the call is tried again."""
    emptied: set[Path] = set()
    while True:
        try:
            return dispatcher(*args)
        except DAMAGED as exc:
            folder = _damaged_folder(exc) or cache_folder(dispatcher)
            if not _from_cache(exc) or folder is None or folder in emptied:
                raise
            emptied.add(folder)
            if folder == cache_folder(dispatcher):
                discard(dispatcher, stem)
            _discard_folder(folder)
            say_once("damaged", f"note: the compiled engine's cache in {folder} was damaged ({type(exc).__name__}); "
                     "discarded it: compiling again (about 20 s)")  # fmt: skip


def _damaged_folder(exc: BaseException) -> Path | None:
    """The cache folder of the file numba failed to read: its cache-file object (``self`` in numba's caching
    frames) knows it."""
    tb, folder = exc.__traceback__, None
    while tb is not None:
        if "numba/core/caching" in tb.tb_frame.f_code.co_filename.replace(os.sep, "/"):
            path = getattr(tb.tb_frame.f_locals.get("self"), "_cache_path", None)
            folder = Path(path) if path else folder
        tb = tb.tb_next
    return folder


def _discard_folder(folder: Path) -> None:
    """Remove numba's cache files (index and data) from ``folder``: it holds only the compiled code of the
    project's modules that live in one source folder."""
    for path in folder.glob("*"):
        if path.suffix in (".nbi", ".nbc"):
            path.unlink(missing_ok=True)


def _from_cache(exc: BaseException) -> bool:
    """Whether the exception came from numba reading its cache (not from the engine's own code)."""
    tb = exc.__traceback__
    while tb is not None:
        if "numba/core/caching" in tb.tb_frame.f_code.co_filename.replace(os.sep, "/"):
            return True
        tb = tb.tb_next
    return False
