"""A thread-safe holder of the model in service, for long-running processes (the API).

``ModelHolder`` loads the CURRENT version of a models folder (or a version folder), checks
it, warms it up (jieba and the user dictionary, one test prediction) and only then swaps
it in, with a single reference assignment. A request that took the model with ``get()``
keeps that object until it is done, so requests in flight finish on the old model while
new ones get the new one; nobody ever sees a half-loaded model. A version that fails to
load, fails its hash check or fails the test prediction is refused and the old one stays.

Several worker processes each hold their own copy. ``announce`` writes a small signal
file after a successful reload and ``follow`` (a daemon thread in every worker) loads the
announced version folder when the file changes, so one reload request reaches all workers.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from triage.files.atomic import write_text
from triage.store.folder import resolve_model_dir
from triage.errors import ModelError, TriageError

log = logging.getLogger("service.holder")

WARM_UP_TEXT = "胶合板厂的留抵退税三个月没到账，流动资金紧张"


class ReloadInProgress(ModelError):
    """Another load is running in this process; try again when it is done."""


@dataclass(frozen=True)
class LoadResult:
    previous_version: str | None
    version: str
    path: str
    seconds: float


def _default_loader(folder):
    from triage.store.folder import load

    return load(folder)


def warm_up(model) -> None:
    """Initialise jieba with the model's user dictionary and run one prediction, so that the
    first real request pays for neither; raises if the model cannot predict."""
    from triage.segment import Segmenter

    if callable(getattr(model, "warm_up", None)):  # the model's own: segmenter and lookup tables
        model.warm_up()
    else:
        for pipe in (getattr(model, "category_pipeline_", None), getattr(model, "tier_pipeline_", None)):
            step = getattr(pipe, "named_steps", {}).get("segment") if pipe is not None else None
            if step is not None:
                (getattr(step, "segmenter", None) or Segmenter()).warm_up()
    out = model.predict_batch([WARM_UP_TEXT], [None], [None])  # the very call the service makes
    if len(out) != 1:
        raise ModelError(f"the test prediction returned {len(out)} results for 1 text")


class ModelHolder:
    """Holds the model in service; see the module docstring.

    source: a models folder (its CURRENT mark names the version) or a version folder.
    loader: ``folder -> model`` (default ``triage.store.folder.load``, which checks hashes).
    """

    def __init__(self, source: str | Path, loader=None):
        self.source = Path(source)
        self._loader = loader or _default_loader
        self._model = None
        self._lock = threading.Lock()
        self.loading = False
        self.error: str | None = None  # why the last load was refused, if it was
        self.loaded_at: str | None = None

    # ------------------------------------------------------------------ reading
    @property
    def ready(self) -> bool:
        return self._model is not None

    def get(self):
        """The model in service (one reference: keep it for the whole request)."""
        model = self._model
        if model is None:
            raise ModelError("no model is loaded yet" + (f"; the last attempt failed: {self.error}" if self.error else ""))
        return model

    @property
    def version(self) -> str | None:
        model = self._model
        return model.card_.get("version") if model is not None else None

    # ------------------------------------------------------------------ loading
    def set(self, model) -> None:
        """Put an already loaded and checked model in service."""
        self._model = model
        self.loaded_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()

    def load(self, folder: str | Path | None = None, wait: bool = False) -> LoadResult:
        """Load ``folder`` (default: the current version of ``source``), check and warm it up,
        then swap it in. Raises ``ModelError`` when it is refused (the old model stays) and
        ``ReloadInProgress`` when another load is running (unless ``wait``)."""
        if not self._lock.acquire(blocking=wait):
            raise ReloadInProgress("a model load is already running; try again when it has finished")
        self.loading = True
        try:
            start = time.perf_counter()
            previous, target = self.version, None
            try:
                target = resolve_model_dir(folder if folder is not None else self.source)
                model = self._loader(target)
                warm_up(model)
            except TriageError as exc:
                self.error = str(exc)
                raise
            except Exception as exc:  # a broken pickle, a card missing keys...: refuse, keep serving
                self.error = f"{type(exc).__name__}: {exc}"
                raise ModelError(f"the model in {target or self.source} could not be "
                                 f"loaded ({self.error}); still serving version {previous}") from None
            self.set(model)
            self.error = None
            result = LoadResult(previous, self.version, str(target), round(time.perf_counter() - start, 3))
            log.info("model %s loaded from folder %s in %.1fs (previous: %s)", result.version, target.name,
                     result.seconds, previous)  # the folder's name: no absolute path in the log
            return result
        finally:
            self.loading = False
            self._lock.release()

    def load_in_background(self) -> threading.Thread:
        """Start the first load in a daemon thread (the process answers liveness meanwhile)."""
        def run():
            try:
                self.load(wait=True)
            except TriageError as exc:
                log.error("the model could not be loaded: %s", exc)

        self.loading = True  # visible before the thread gets going
        thread = threading.Thread(target=run, name="model-load", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------ several workers
    @staticmethod
    def announce(signal_file: str | Path, result: LoadResult) -> None:
        """Tell the other worker processes which version folder to load."""
        payload = {"version": result.version, "path": result.path, "pid": os.getpid(),
                   "at": dt.datetime.now(dt.timezone.utc).isoformat()}
        write_text(Path(signal_file), json.dumps(payload) + "\n")

    def follow(self, signal_file: str | Path, interval: float = 1.0, stop: threading.Event | None = None
               ) -> threading.Thread:
        """Watch ``signal_file`` in a daemon thread; when it announces a version folder other
        than the one in service, load that folder (refusals are logged, the old model stays)."""
        path = Path(signal_file)
        stop = stop or threading.Event()

        def stamp():
            try:
                st = path.stat()
                return st.st_mtime_ns, st.st_size, st.st_ino
            except OSError:
                return None

        seen = stamp()  # taken now, so an announcement right after this call is not missed

        def run():
            nonlocal seen
            while not stop.wait(interval):
                now = stamp()
                if now is None or now == seen:
                    continue
                seen = now
                try:
                    announced = json.loads(path.read_text("utf-8"))
                    model = self._model
                    if model is not None and str(getattr(model, "path_", "")) == announced["path"]:
                        continue
                    self.load(announced["path"], wait=True)
                except TriageError as exc:
                    log.error("announced model refused, keeping version %s: %s", self.version, exc)
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    log.error("unreadable reload signal %s: %s", path.name, type(exc).__name__)

        thread = threading.Thread(target=run, name="model-follow", daemon=True)
        thread.stop = stop  # type: ignore[attr-defined]
        thread.start()
        return thread
