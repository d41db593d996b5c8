"""The HL7 FHIRPath R4 suite through our fast path (server/search/extract/fastpath.py).

Every suite case whose expression ``compile_fast`` accepts must give the suite's expected
output: the fast path is ours, so a mismatch is our bug. Known ones are listed in
MISMATCHES (xfail strict: fixing one makes the run say so; then delete its entry).
"""

from __future__ import annotations

import pytest

from server.search.extract.fastpath import compile_fast
from tests.fhirpath.official_suite import load_cases, load_input, mismatch, unavailable

# Static checks are no evaluator's business: the suite expects them in its strict mode
# (unknown element names, Observation.valueQuantity). Neither evaluator makes them, and
# SearchParameter expressions are only syntax-checked on write (server/search/registry.py).
NOT_APPLICABLE = {"semantic": "a static (strict-mode) check, not evaluation"}

MISMATCHES = {
    "testContainedId": "Resource.id is typed System.String (fhirpathpy's R4 model), the suite wants id",
    "testFHIRPathAsFunction11": "as(string) keeps a code (is_of_type walks code -> string); the suite wants empty",
    "testFHIRPathAsFunction16": "ofType(string) keeps a code (is_of_type walks code -> string); the suite wants empty",
    "testFHIRPathAsFunction21": (
        "as() on several items must fail; the fast path reads as() as ofType() on purpose "
        "(R4's search expressions rely on it, see the fastpath.py docstring)"
    ),
    "testFHIRPathAsFunction23": "as() of an unknown type (string1) must fail; the fast path gives empty",
    "testFHIRPathAsFunction24": "ofType() of an unknown type (string1) must fail; the fast path gives empty",
}

_SYSTEM = {"System.String": "string", "System.Boolean": "boolean", "System.Integer": "integer"}
_SYSTEM |= {"System.Decimal": "decimal", "System.Date": "date", "System.DateTime": "dateTime", "System.Time": "time"}


def _params():
    if reason := unavailable():
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason))]
    params, unused = [], set(MISMATCHES)
    for case in load_cases():
        run = compile_fast(case.expression)
        if run is None:
            continue  # outside the fast subset: fhirpathpy evaluates it (test_fhirpath_suite.py)
        marks = []
        if case.invalid in NOT_APPLICABLE:
            marks.append(pytest.mark.skip(reason=NOT_APPLICABLE[case.invalid]))
        elif case.id in MISMATCHES:
            unused.discard(case.id)
            marks.append(pytest.mark.xfail(strict=True, reason=MISMATCHES[case.id]))
        params.append(pytest.param(case, run, id=case.id, marks=marks))
    assert not unused, f"MISMATCHES names cases the fast path no longer compiles: {sorted(unused)}"
    return params


CASES = _params()


@pytest.mark.parametrize("case, run", CASES)
def test_fast_path(case, run):
    resource = load_input(case.inputfile)
    if case.invalid:
        with pytest.raises(Exception):  # noqa: B017 - any failure: the suite names no error types
            result = run(resource)
            pytest.fail(f"expected an error ({case.invalid}), got {result!r}")
        return
    result = [(_SYSTEM.get(kind, kind), value) for kind, value in run(resource)]
    assert mismatch(case, result) is None, mismatch(case, result)


def test_fast_path_covers_the_navigation_cases():
    """The suite's path/ofType/as/first/exists/where shapes reach the fast path; if the
    subset shrinks, this says how (the count is the number of compiled cases)."""
    if reason := unavailable():
        pytest.skip(reason)
    assert len(CASES) == 38
