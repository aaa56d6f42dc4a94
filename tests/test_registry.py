"""The registry finds verifiers by name, ours through the same entry-point group as plugins."""

import pytest

from verifiers import PluginError, UnknownVerifierError, Verdict, get_verifier
from verifiers.registry import available_verifiers, register_verifier, unregister_verifier


def test_builtin_verifiers_are_found_through_entry_points():
    names = available_verifiers()
    assert "math" in names and "unit_tests" in names


def test_unknown_name_lists_what_is_known():
    with pytest.raises(UnknownVerifierError, match=r"no verifier named 'nope'.*math"):
        get_verifier("nope")


def test_builtin_math_verifier_is_built_with_options():
    v = get_verifier("math")
    assert v.name == "math" and v.version


class _Upper:
    name = "upper"
    version = "0"

    def verify(self, problem, candidate):
        return Verdict.ok() if candidate.isupper() else Verdict.fail("wrong_answer", "lower")


class _NotAVerifier:
    def __init__(self, **kw):
        pass


def test_runtime_registration_and_duplicate_refusal():
    register_verifier("upper_test", _Upper)
    try:
        assert "upper_test" in available_verifiers()
        assert get_verifier("upper_test").verify({}, "ABC").passed
        with pytest.raises(PluginError, match="already registered"):
            register_verifier("upper_test", _Upper)
        with pytest.raises(PluginError, match="already registered"):
            register_verifier("math", _Upper)
    finally:
        unregister_verifier("upper_test")
    assert "upper_test" not in available_verifiers()


def test_object_without_the_interface_is_refused_by_name():
    register_verifier("not_a_verifier", _NotAVerifier)
    try:
        with pytest.raises(PluginError, match="'not_a_verifier' does not implement"):
            get_verifier("not_a_verifier")
    finally:
        unregister_verifier("not_a_verifier")


def test_bad_options_name_the_verifier():
    register_verifier("upper_opts", _Upper)
    try:
        with pytest.raises(PluginError, match="'upper_opts' rejected options"):
            get_verifier("upper_opts", colour="blue")
    finally:
        unregister_verifier("upper_opts")


@pytest.mark.parametrize("bad", ["", "has space", "a/b"])
def test_bad_names_are_refused(bad):
    with pytest.raises(PluginError, match="must be a non-empty word"):
        register_verifier(bad, _Upper)
