"""Declare, read and validate a notebook's parameters; load named profiles.

A notebook keeps its defaults in one cell tagged ``parameters``: one ``name = literal`` per line,
with the meaning in a trailing comment. That cell is the single source of defaults: the runner
reads it to reject unknown names and wrong types before a kernel starts, and the book's
parameter tables are generated from it. Ranges and allowed values are checked inside the
notebook, right after the parameters cell, by :func:`validate`.

Profiles are YAML files beside the notebook: ``notebooks/<name>.<profile>.yaml``. The profile
``default`` is the parameters cell itself.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PROFILE = "default"
INTEGER_LIST = re.compile(r"\s*(\d+\s*(,\s*\d+\s*)*)?")
"""A string default of this form declares a list of integers (``"8,16,32"``, or ``""``)."""
ParameterValue = bool | int | float | str


class ParameterError(ValueError):
    """A parameter is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's parameters cell.

    Attributes
    ----------
    name : str
        The parameter's name.
    default : bool, int, float or str
        Its default value.
    help : str
        Its meaning (the line's trailing comment).
    """

    name: str
    default: ParameterValue
    help: str

    @property
    def type_name(self) -> str:
        """Name of the default value's type (``int``, ``float``, ``str``, ``bool``)."""
        return type(self.default).__name__


def parse_parameters_cell(source: str) -> list[Parameter]:
    """Parse ``name = literal  # meaning`` lines of a parameters cell.

    Only literal values (numbers, strings, booleans) are allowed so that the defaults can be read
    without running code.

    Parameters
    ----------
    source : str
        Source of the parameters cell.

    Returns
    -------
    list of Parameter
        The parameters, in order.
    """
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    parameters = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ParameterError(f"parameters cell line {node.lineno}: expected 'name = literal'")
        try:
            value = ast.literal_eval(node.value)
        except ValueError as exc:
            raise ParameterError(f"parameters cell line {node.lineno}: the value must be a literal") from exc
        if not isinstance(value, bool | int | float | str):
            raise ParameterError(f"parameters cell line {node.lineno}: only numbers, strings and booleans")
        parameters.append(Parameter(node.targets[0].id, value, comments.get(node.lineno, "")))
    return parameters


def read_notebook_source(path: Path) -> Any:
    """The notebook at ``path`` (jupytext percent ``.py``) as a ``NotebookNode``.

    Parameters
    ----------
    path : pathlib.Path
        The notebook's source.

    Returns
    -------
    nbformat.NotebookNode
        The notebook.
    """
    import jupytext

    return jupytext.read(path)


def parameters_cell_source(notebook: Any) -> str:
    """The source of the single cell tagged ``parameters``.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The notebook.

    Returns
    -------
    str
        The cell's source.
    """
    cells = [c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"a notebook needs exactly one cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def read_parameters(path: Path) -> list[Parameter]:
    """The declared parameters of the notebook at ``path``.

    Parameters
    ----------
    path : pathlib.Path
        The notebook's source.

    Returns
    -------
    list of Parameter
        The parameters, in order.
    """
    return parse_parameters_cell(parameters_cell_source(read_notebook_source(path)))


def profile_path(notebook_path: Path, profile: str) -> Path:
    """The file of profile ``profile``: ``<notebook>.<profile>.yaml`` beside the notebook.

    Parameters
    ----------
    notebook_path : pathlib.Path
        The notebook's source.
    profile : str
        Name of the profile.

    Returns
    -------
    pathlib.Path
        The profile's file.
    """
    return notebook_path.with_name(f"{notebook_path.stem}.{profile}.yaml")


def available_profiles(notebook_path: Path) -> list[str]:
    """``default`` plus every ``<notebook>.<profile>.yaml`` beside the notebook (not the sweeps,
    ``<notebook>.<sweep>.sweep.yaml``).

    Parameters
    ----------
    notebook_path : pathlib.Path
        The notebook's source.

    Returns
    -------
    list of str
        Profile names, ``default`` first.
    """
    files = [p for p in notebook_path.parent.glob(f"{notebook_path.stem}.*.yaml") if not p.name.endswith(".sweep.yaml")]  # sweeps: book.sweeps
    names = sorted(p.name[len(notebook_path.stem) + 1 : -len(".yaml")] for p in files)
    return [DEFAULT_PROFILE, *names]


def load_profile(notebook_path: Path, profile: str) -> dict[str, ParameterValue]:
    """The parameter values of a named profile (empty for ``default``).

    Parameters
    ----------
    notebook_path : pathlib.Path
        The notebook's source.
    profile : str
        One of :func:`available_profiles`.

    Returns
    -------
    dict of str to bool, int, float or str
        Parameter values.
    """
    allowed = available_profiles(notebook_path)
    if profile not in allowed:
        raise ParameterError(f"unknown profile {profile!r} for {notebook_path.stem}; allowed: {', '.join(allowed)}")
    if profile == DEFAULT_PROFILE:
        return {}
    values = yaml.safe_load(profile_path(notebook_path, profile).read_text()) or {}
    if not isinstance(values, dict):
        raise ParameterError(f"profile file {profile_path(notebook_path, profile)} must be a mapping of name: value")
    return values


def check_names_and_types(declared: list[Parameter], values: dict[str, Any], source: str = "") -> dict[str, ParameterValue]:
    """Reject unknown names and values whose type differs from the default's.

    An int is accepted for a float parameter (and converted), and for a string parameter whose
    default is a comma-separated list of integers (a list with one entry, such as ``-p k_sweep 2``:
    converted to ``"2"``).

    Parameters
    ----------
    declared : list of Parameter
        The notebook's parameters.
    values : dict of str to Any
        Values to check.
    source : str
        Where the values come from, for error messages.

    Returns
    -------
    dict of str to bool, int, float or str
        The checked values.
    """
    by_name = {p.name: p for p in declared}
    checked: dict[str, ParameterValue] = {}
    where = f" (from {source})" if source else ""
    for name, value in values.items():
        if name not in by_name:
            raise ParameterError(f"unknown parameter {name!r}{where}; allowed: {', '.join(by_name)}")
        expected = type(by_name[name].default)
        if isinstance(value, int) and not isinstance(value, bool):
            if expected is float or (expected is str and INTEGER_LIST.fullmatch(str(by_name[name].default))):
                value = expected(value)
        if type(value) is not expected:
            raise ParameterError(
                f"parameter {name!r}{where} must be of type {expected.__name__}, got {type(value).__name__} {value!r}"
            )
        checked[name] = value
    return checked


@dataclass(frozen=True)
class Rule:
    """What values one parameter may take: a type with an optional range or a set of choices.

    Attributes
    ----------
    kind : type
        The type of the values.
    low, high : float or None
        Bounds of the range, inclusive.
    choices : tuple or None
        The values allowed.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple[ParameterValue, ...] | None = None

    def describe(self) -> str:
        """The allowed values, in words (for error messages).

        Returns
        -------
        str
            The description.
        """
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.low is not None or self.high is not None:
            return f"{self.kind.__name__} in [{self.low}, {self.high}]"
        return self.kind.__name__

    def check(self, name: str, value: Any) -> ParameterValue:
        """``value`` if the rule allows it (an int converted for a float rule), else a ``ParameterError``.

        Parameters
        ----------
        name : str
            Name of the parameter, for the error message.
        value : Any
            The value.

        Returns
        -------
        bool, int, float or str
            The checked value.
        """
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not self.kind:
            raise ParameterError(f"parameter {name!r} must be {self.describe()}, got {type(value).__name__} {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"parameter {name!r} must be {self.describe()}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # NaN passes every comparison of a range check
            raise ParameterError(f"parameter {name!r} must be a finite {self.describe()}, got {value!r}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ParameterError(f"parameter {name!r} must be {self.describe()}, got {value!r}")
        return value


@dataclass(frozen=True)
class IntegerListRule(Rule):
    """A string of comma-separated ``int`` values, each in ``[low, high]`` (``"8,16,32"``).

    Attributes
    ----------
    allow_empty : bool
        Whether ``""`` (no values) is allowed; other fields as in :class:`Rule`.
    max_length : int
        The most values the list may hold (a list drives loops and memory).
    """

    allow_empty: bool = False
    max_length: int = 64

    def describe(self) -> str:
        """The allowed values, in words (for error messages).

        Returns
        -------
        str
            The description.
        """
        empty = " (or '' for none)" if self.allow_empty else ""
        return f"comma-separated integers in [{self.low}, {self.high}], at most {self.max_length} of them, e.g. '8,16,32'{empty}"

    def check(self, name: str, value: Any) -> ParameterValue:
        """``value`` if it is a string of numbers the rule allows, else a ``ParameterError``.

        Parameters
        ----------
        name : str
            Name of the parameter, for the error message.
        value : Any
            The value.

        Returns
        -------
        str
            The checked value.
        """
        if type(value) is not str:
            raise ParameterError(f"parameter {name!r} must be {self.describe()}, got {type(value).__name__} {value!r}")
        try:
            numbers = self._parse(value)
        except ValueError:
            raise ParameterError(f"parameter {name!r} must be {self.describe()}, got {value!r}") from None
        out_of_range = any(not math.isfinite(n) or (self.low is not None and n < self.low) or (self.high is not None and n > self.high) for n in numbers)
        if (not numbers and not self.allow_empty) or out_of_range or len(numbers) > self.max_length:
            raise ParameterError(f"parameter {name!r} must be {self.describe()}, got {value!r}")
        return value


    def _parse(self, value: str) -> list[float]:
        return parse_integers(value)


@dataclass(frozen=True)
class RealListRule(IntegerListRule):
    """A string of comma-separated numbers, each in ``[low, high]`` (``"0.2,0.4"``).

    Attributes
    ----------
    allow_empty : bool
        Whether ``""`` (no values) is allowed; other fields as in :class:`Rule`.
    """

    def describe(self) -> str:
        """The allowed values, in words (for error messages).

        Returns
        -------
        str
            The description.
        """
        empty = " (or '' for none)" if self.allow_empty else ""
        return f"comma-separated numbers in [{self.low}, {self.high}], at most {self.max_length} of them, e.g. '0.2,0.5'{empty}"

    def _parse(self, value: str) -> list[float]:
        return parse_reals(value)


@dataclass(frozen=True)
class ChoiceListRule(Rule):
    """A string of comma-separated names, each one of ``choices``, none repeated (``"a,b"``).

    Attributes
    ----------
    choices : tuple of str
        The allowed names; other fields as in :class:`Rule`.
    """

    def describe(self) -> str:
        """The allowed values, in words (for error messages).

        Returns
        -------
        str
            The description.
        """
        return "comma-separated names from " + ", ".join(repr(c) for c in self.choices or ())

    def check(self, name: str, value: Any) -> ParameterValue:
        """``value`` if it names at least one of the choices, none repeated, else a ``ParameterError``.

        Parameters
        ----------
        name : str
            Name of the parameter, for the error message.
        value : Any
            The value.

        Returns
        -------
        str
            The checked value.
        """
        names = parse_names(value) if type(value) is str else None
        if not names or len(set(names)) != len(names) or not set(names) <= set(self.choices or ()):
            raise ParameterError(f"parameter {name!r} must be {self.describe()} (at least one, no repeats), got {value!r}")
        return value


def parse_names(text: str) -> list[str]:
    """``"a, b,c"`` -> ``["a", "b", "c"]``.

    Parameters
    ----------
    text : str
        Comma-separated names.

    Returns
    -------
    list of str
        The names, stripped, empty ones dropped.
    """
    return [part.strip() for part in text.split(",") if part.strip()]


def choice_list(*choices: str) -> Rule:
    """Comma-separated names, each one of ``choices`` (a string such as ``"authors,batchtopk"``).

    Parameters
    ----------
    *choices : str
        The allowed names.

    Returns
    -------
    Rule
        A :class:`ChoiceListRule`.
    """
    return ChoiceListRule(str, choices=tuple(choices))


def parse_integers(text: str) -> list[int]:
    """``"8, 16,32"`` -> ``[8, 16, 32]``; ``""`` -> ``[]``.

    Parameters
    ----------
    text : str
        Comma-separated integers.

    Returns
    -------
    list of int
        The integers.
    """
    return [int(part) for part in text.split(",") if part.strip()]


def parse_reals(text: str) -> list[float]:
    """``"0.2, 0.5"`` -> ``[0.2, 0.5]``; ``""`` -> ``[]``.

    Parameters
    ----------
    text : str
        Comma-separated numbers.

    Returns
    -------
    list of float
        The numbers.
    """
    return [float(part) for part in text.split(",") if part.strip()]


def real_list(low: float | None = None, high: float | None = None, allow_empty: bool = False) -> Rule:
    """Comma-separated numbers in ``[low, high]``, given as a string (``""`` only with ``allow_empty``).

    Parameters
    ----------
    low, high : float or None
        Bounds, inclusive.
    allow_empty : bool
        Allow ``""``.

    Returns
    -------
    Rule
        A :class:`RealListRule`.
    """
    return RealListRule(str, low, high, allow_empty=allow_empty)


def integer_list(low: int | None = None, high: int | None = None, allow_empty: bool = False) -> Rule:
    """Comma-separated ``int`` values in ``[low, high]``, given as a string (``""`` only with ``allow_empty``).

    Parameters
    ----------
    low, high : int or None
        Bounds, inclusive.
    allow_empty : bool
        Allow ``""``.

    Returns
    -------
    Rule
        An :class:`IntegerListRule`.
    """
    return IntegerListRule(str, low, high, allow_empty=allow_empty)


def integer(low: int | None = None, high: int | None = None) -> Rule:
    """An ``int`` in ``[low, high]``.

    Parameters
    ----------
    low, high : int or None
        Bounds, inclusive.

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(int, low, high)


def real(low: float | None = None, high: float | None = None) -> Rule:
    """A ``float`` in ``[low, high]`` (ints are accepted).

    Parameters
    ----------
    low, high : float or None
        Bounds, inclusive.

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(float, low, high)


def one_of(*choices: ParameterValue) -> Rule:
    """One of the given values.

    Parameters
    ----------
    *choices : bool, int, float or str
        The allowed values, all of one type.

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(type(choices[0]), choices=tuple(choices))


def text() -> Rule:
    """Any ``str`` (a name or a path; the notebook checks its meaning).

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(str)


def flag() -> Rule:
    """A ``bool``.

    Returns
    -------
    Rule
        The rule.
    """
    return Rule(bool)


def is_seed_parameter(name: str) -> bool:
    """Whether a notebook parameter is a seed: ``seed`` or ``<something>_seed``.

    The one naming rule that replicate runs and the shared seed rule rely on.

    Parameters
    ----------
    name : str
        Name of the parameter.

    Returns
    -------
    bool
        Whether it is a seed.
    """
    return name == "seed" or name.endswith("_seed")


def validate(namespace: dict[str, Any], rules: dict[str, Rule], notebook_path: Path | None = None) -> dict[str, ParameterValue]:
    """Check a notebook's parameter values against its rules; return them as a dict.

    Every declared parameter must have a rule and every rule a parameter.

    Parameters
    ----------
    namespace : dict of str to Any
        The notebook's ``globals()``.
    rules : dict of str to Rule
        The rule of each parameter.
    notebook_path : pathlib.Path or None
        When given, the rules are checked against its parameters cell, and ``profile`` must name one
        of its profiles.

    Returns
    -------
    dict of str to bool, int, float or str
        The checked values.
    """
    if notebook_path is not None:
        declared = [p.name for p in read_parameters(notebook_path)]
        missing = sorted(set(declared) - set(rules))
        extra = sorted(set(rules) - set(declared))
        if missing or extra:
            raise ParameterError(f"rules and parameters cell disagree: no rule for {missing}, no parameter for {extra}")
        if "profile" in rules:
            rules = {**rules, "profile": one_of(*available_profiles(notebook_path))}
    values = {}
    for name, rule in rules.items():
        if name not in namespace:
            raise ParameterError(f"parameter {name!r} is not defined")
        values[name] = rule.check(name, namespace[name])
    return values
