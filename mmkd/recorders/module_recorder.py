"""Record the outputs of a model's submodules by their module path."""
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional

from torch import nn

from mmkd.utils.modules import find_module

from .callbacks import BoundModuleHook
from .roi_branches import check_roi_path, extractor_path, roi_branch, rois_key

_KEY_PATTERN = re.compile(r'^(?P<path>[\w.]*)(\[(?P<index>-?\d+)\])?$')
INPUTS_SUFFIX = ':inputs'


def inputs_key(path: str) -> str:
    """Record key of the inputs of the module at ``path``: the first positional
    argument of each of its calls in one forward, as a list in call order (a
    head tower shared by all levels is called once per level)."""
    return f'{path}{INPUTS_SUFFIX}'


@dataclass(frozen=True)
class RecordKey:
    """A module path plus an optional index into its output.

    ``'neck'`` selects the neck's whole output, ``'neck[1]'`` its second
    element (the second FPN level).
    """
    path: str
    index: Optional[int] = None

    def select(self, records: Dict[str, Any]) -> Any:
        output = records[self.path]
        return output if self.index is None else output[self.index]

    def __str__(self) -> str:
        return self.path if self.index is None else f'{self.path}[{self.index}]'


def parse_record_key(text: str) -> RecordKey:
    match = _KEY_PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f'"{text}" is not a module path such as "neck" or "neck[1]"')
    index = match.group('index')
    return RecordKey(match.group('path'), None if index is None else int(index))


class ModuleRecorder:
    """Keeps the latest outputs of ``paths`` in ``model`` while ``active``.

    For paths in a two-stage RoI branch it also keeps the RoIs the branch's
    extractor received, under :func:`~mmkd.recorders.roi_branches.rois_key`.
    A path given as :func:`inputs_key` records the module's inputs instead.

    Args:
        model: the detector whose submodules are recorded.
        paths: module paths such as ``'neck'`` or ``'backbone.stage4'``.
        config_key: the config key the paths came from, for error messages.
    """

    def __init__(self, model: nn.Module, paths: Iterable[str], config_key: str) -> None:
        self.model = model
        self.modules = {path: find_module(model, path.removesuffix(INPUTS_SUFFIX), config_key)
                        for path in sorted(set(paths))}
        for path in self.modules:
            check_roi_path(path, config_key)
        branches = {roi_branch(path) for path in self.modules} - {None}
        self.roi_extractors = {rois_key(branch): find_module(model, extractor_path(branch), config_key)
                               for branch in sorted(branches)}
        self.records: Dict[str, Any] = {}
        self.active = False
        self._handles: List[Any] = []

    def attach(self) -> None:
        if self._handles:
            return
        self._handles = [
            module.register_forward_pre_hook(BoundModuleHook(module, self._store_inputs(path)))
            if path.endswith(INPUTS_SUFFIX)
            else module.register_forward_hook(BoundModuleHook(module, self._store(path)))
            for path, module in self.modules.items()
        ] + [
            module.register_forward_pre_hook(BoundModuleHook(module, self._store_rois(key)))
            for key, module in self.roi_extractors.items()
        ]

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self.clear()

    def clear(self) -> None:
        self.records = {}

    def _store(self, path: str):
        def store(module: nn.Module, args: Any, output: Any) -> None:
            if self.active:
                self.records[path] = output
        return store

    def _store_inputs(self, key: str):
        def store(module: nn.Module, args: Any) -> None:
            if self.active:
                self.records.setdefault(key, []).append(args[0])
        return store

    def _store_rois(self, key: str):
        def store(module: nn.Module, args: Any) -> None:
            if self.active:
                self.records[key] = args[1]
        return store

    def missing(self) -> List[str]:
        """Paths whose module did not run since the last :meth:`clear`."""
        return [path for path in self.modules if path not in self.records]

    @contextmanager
    def capture(self) -> Iterator[Dict[str, Any]]:
        """Record every path while the block runs; yields the filling dict.

        Raises when a recorded module did not run, and leaves the recorder
        empty (the yielded dict keeps the records).
        """
        self.clear()
        self.attach()
        self.active = True
        records = self.records
        try:
            yield records
        finally:
            self.active = False
        missing = self.missing()
        self.records = {}
        if missing:
            raise RuntimeError(f'modules {missing} of {type(self.model).__name__} did not run in its forward; '
                               'distil outputs of modules the detector actually calls')
