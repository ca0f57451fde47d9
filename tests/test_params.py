import pytest

from superposition.book.params import (
    ParameterError,
    available_profiles,
    check_names_and_types,
    choice_list,
    integer,
    integer_list,
    load_profile,
    one_of,
    parse_integers,
    parse_names,
    parse_parameters_cell,
    parse_reals,
    read_parameters,
    real,
    real_list,
    text,
    validate,
)
from superposition.io import notebook_names, notebook_path

CELL = '''profile = "default"  # parameter profile
n = 10  # how many
rate = 0.5  # a rate in [0, 1]
fast = False
'''


def test_parse_parameters_cell_reads_names_defaults_and_meanings():
    params = parse_parameters_cell(CELL)
    assert [(p.name, p.default, p.help) for p in params] == [
        ("profile", "default", "parameter profile"),
        ("n", 10, "how many"),
        ("rate", 0.5, "a rate in [0, 1]"),
        ("fast", False, ""),
    ]


@pytest.mark.parametrize("cell", ["x = [1, 2]\n", "x = f(3)\n", "x, y = 1, 2\n", "import os\n"])
def test_parse_parameters_cell_rejects_non_literals(cell):
    with pytest.raises(ParameterError):
        parse_parameters_cell(cell)


def test_unknown_names_and_wrong_types_are_named():
    declared = parse_parameters_cell(CELL)
    with pytest.raises(ParameterError, match=r"unknown parameter 'm'.*allowed: profile, n, rate, fast"):
        check_names_and_types(declared, {"m": 3})
    with pytest.raises(ParameterError, match=r"parameter 'n'.*type int, got str"):
        check_names_and_types(declared, {"n": "ten"})
    with pytest.raises(ParameterError, match=r"parameter 'fast'.*type bool"):
        check_names_and_types(declared, {"fast": 1})
    assert check_names_and_types(declared, {"rate": 1}) == {"rate": 1.0}


def test_rules_name_the_parameter_and_the_allowed_values():
    rules = {"n": integer(1, 5), "rate": real(0, 1), "mode": one_of("a", "b")}
    assert validate({"n": 3, "rate": 1, "mode": "a"}, rules) == {"n": 3, "rate": 1.0, "mode": "a"}
    with pytest.raises(ParameterError, match=r"'n' must be int in \[1, 5\], got 9"):
        validate({"n": 9, "rate": 0.5, "mode": "a"}, rules)
    with pytest.raises(ParameterError, match=r"'mode' must be one of 'a', 'b', got 'c'"):
        validate({"n": 1, "rate": 0.5, "mode": "c"}, rules)
    with pytest.raises(ParameterError, match=r"'rate' must be float"):
        validate({"n": 1, "rate": "high", "mode": "a"}, rules)


def test_a_single_integer_is_accepted_for_a_string_parameter():
    declared = parse_parameters_cell('widths = "8,16"  # widths\nrate = 0.5  # a rate\nmode = "auto"  # a mode\n')
    assert check_names_and_types(declared, {"widths": 8, "rate": 1}) == {"widths": "8", "rate": 1.0}
    with pytest.raises(ParameterError, match="'widths'.*must be of type str, got bool"):
        check_names_and_types(declared, {"widths": True})
    with pytest.raises(ParameterError, match="'mode'.*must be of type str, got int"):
        check_names_and_types(declared, {"mode": 3})


def test_integer_lists_are_strings_of_integers_in_range():
    rules = {"widths": integer_list(1, 64), "sweep": integer_list(1, 10, allow_empty=True)}
    assert validate({"widths": "8, 16,32", "sweep": ""}, rules) == {"widths": "8, 16,32", "sweep": ""}
    assert parse_integers("8, 16,32") == [8, 16, 32] and parse_integers("") == []
    for bad in ("8,65", "8;16", "", 8):
        with pytest.raises(ParameterError, match=r"'widths' must be comma-separated integers in \[1, 64\]"):
            validate({"widths": bad, "sweep": ""}, rules)


def test_real_lists_are_strings_of_numbers_in_range():
    rules = {"deltas": real_list(0.01, 1.0)}
    assert validate({"deltas": "0.2, 0.5,1"}, rules) == {"deltas": "0.2, 0.5,1"}
    assert parse_reals("0.2, 0.5,1") == [0.2, 0.5, 1.0] and parse_reals("") == []
    for bad in ("0.2,1.5", "0.2;0.4", "", 0.2, "x", "0.2,nan", "inf"):
        with pytest.raises(ParameterError, match=r"'deltas' must be comma-separated numbers in \[0.01, 1.0\]"):
            validate({"deltas": bad}, rules)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_real_refuses_nan_and_infinities_by_name(value):
    """NaN passes every comparison of a range check: it is refused on its own, naming the parameter."""
    for rule in (real(0.0, 1.0), real()):
        with pytest.raises(ParameterError, match=r"parameter 'gap_threshold' must be a finite float"):
            validate({"gap_threshold": value}, {"gap_threshold": rule})


@pytest.mark.parametrize("name", notebook_names())
def test_every_notebook_has_profiles_and_valid_profile_files(name):
    path = notebook_path(name)
    profiles = available_profiles(path)
    assert {"default", "smoke", "paper"} <= set(profiles)
    declared = read_parameters(path)
    assert declared[0].name == "profile" and all(p.help for p in declared), "every parameter needs a meaning"
    for profile in profiles:
        check_names_and_types(declared, load_profile(path, profile), source=profile)


def test_unknown_profile_lists_the_allowed_ones():
    path = notebook_path("compressed_sensing")
    with pytest.raises(ParameterError, match=r"unknown profile 'huge'.*allowed: default, paper, smoke"):
        load_profile(path, "huge")


def test_unknown_notebook_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="known notebooks: .*compressed_sensing"):
        notebook_path("no_such_chapter")


def test_choice_lists_are_comma_separated_names_from_the_allowed_set():
    rule = choice_list("authors", "batchtopk", "lr_low")
    assert rule.check("variants", "authors, lr_low") == "authors, lr_low"
    assert parse_names(" a, b ,c ") == ["a", "b", "c"]
    for bad in ("authors,magic", "", "authors,authors", 3):
        with pytest.raises(ParameterError, match=r"parameter 'variants' must be comma-separated names from 'authors', 'batchtopk', 'lr_low'"):
            rule.check("variants", bad)
    assert text().check("image_dir", "~/data") == "~/data"
    with pytest.raises(ParameterError, match="parameter 'image_dir' must be str"):
        text().check("image_dir", 5)


def test_a_list_parameter_has_a_length_limit():
    rules = {"widths": integer_list(1, 64), "deltas": real_list(0.01, 1.0)}
    with pytest.raises(ParameterError, match=r"'widths' must be comma-separated integers in \[1, 64\], at most 64 of them"):
        validate({"widths": ",".join(["8"] * 65), "deltas": "0.5"}, rules)
    with pytest.raises(ParameterError, match=r"'deltas' must be comma-separated numbers in \[0.01, 1.0\], at most 64 of them"):
        validate({"widths": "8", "deltas": ",".join(["0.5"] * 65)}, rules)
    assert validate({"widths": ",".join(["8"] * 64), "deltas": "0.5"}, rules)
