"""One call opens a chapter: its parameters validated, the device chosen, randomness seeded.

Every notebook starts the same way::

    chapter = open_chapter("toy_alignment", globals(), {"n_features": integer(2, 4096), ...}, seed="data_seed")
    torch_device = chapter.device
    ...                       # the chapter's own checks of its parameters, before anything is computed
    run = chapter.start()     # the plot style, and the run that records every number

The parameters every chapter shares need no rule of their own: ``profile`` (one of the notebook's
profiles), ``device`` (``auto``, ``cpu`` or ``cuda``) and every seed (``seed`` or ``*_seed``, an
integer from 0 to 2^31 - 1) get :func:`shared_rule` unless the chapter gives another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..io import notebook_path
from ..runtime import describe_device, get_device, seed_everything
from .params import ParameterValue, Rule, integer, is_seed_parameter, one_of, read_parameters, validate
from .record import Run, start_run

DEVICES = ("auto", "cpu", "cuda")
SEED_RANGE = (0, 2**31 - 1)


def shared_rule(name: str) -> Rule | None:
    """The rule of a parameter every chapter shares (``profile``, ``device``, a seed), else None.

    Parameters
    ----------
    name : str
        Parameter name.

    Returns
    -------
    Rule or None
        One of :data:`DEVICES` for ``device``, an integer in :data:`SEED_RANGE` for a seed, a stand-in
        for ``profile`` (:func:`.params.validate` replaces it by the notebook's profiles); None for any
        other parameter.
    """
    if name == "profile":
        return one_of("default")  # validate() replaces it by the notebook's profiles
    if name == "device":
        return one_of(*DEVICES)
    if is_seed_parameter(name):
        return integer(*SEED_RANGE)
    return None


@dataclass
class Chapter:
    """An opened chapter: its ``name``, validated ``params`` and the torch ``device`` it runs on.

    Attributes
    ----------
    name : str
        Notebook name.
    params : dict of str to bool, int, float or str
        The validated parameter values.
    device : torch.device
        The device the chapter runs on.
    """

    name: str
    params: dict[str, ParameterValue]
    device: torch.device

    def start(self) -> Run:
        """Set the book's plot style and start the run that records the chapter's numbers.

        Returns
        -------
        Run
            The run (:func:`.record.start_run`), with the chapter's parameters and device.
        """
        from . import plots

        plots.setup_style()
        return start_run(self.name, self.params, describe_device(self.device))


def open_chapter(name: str, namespace: dict[str, Any], rules: dict[str, Rule], seed: str = "seed") -> Chapter:
    """Open a chapter: validate its parameters, choose the device, seed the random generators.

    The parameters of notebook ``name`` (its ``globals()``) are validated, the device chosen, and
    Python, NumPy and torch seeded from parameter ``seed``; nothing is computed before the checks.
    Rules are applied in the order of the parameters cell.

    Parameters
    ----------
    name : str
        Notebook name.
    namespace : dict of str to Any
        The notebook's ``globals()``, holding its parameter values.
    rules : dict of str to Rule
        Each of the chapter's own parameters to its rule; the shared ones (:func:`shared_rule`) may
        be left out.
    seed : str
        Name of the seed parameter that seeds Python, NumPy and torch.

    Returns
    -------
    Chapter
        The chapter, with its validated parameters and device.
    """
    path = notebook_path(name)
    declared = [p.name for p in read_parameters(path)]
    complete = {n: rules.get(n) or shared_rule(n) for n in declared if n in rules or shared_rule(n) is not None}
    complete.update({n: rule for n, rule in rules.items() if n not in complete})  # validate() names rules without a parameter
    params = validate(namespace, complete, path)
    if seed not in params or not is_seed_parameter(seed):
        raise ValueError(f"seed must name one of the chapter's seed parameters; got {seed!r}")
    device = get_device(str(params["device"]))
    seed_everything(int(params[seed]))
    return Chapter(name, params, device)
