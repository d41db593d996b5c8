"""JSON Patch against the official cases (shared/fhir-tests/patch/json-patch-tests.json)."""

import copy
import json
from pathlib import Path

import pytest

from server.errors import BadRequest, Unprocessable
from server.patch import apply_json_patch

CASES_FILE = Path(__file__).resolve().parents[2].parent / "shared/fhir-tests/patch/json-patch-tests.json"


def _cases():
    if not CASES_FILE.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CASES_FILE} not found"))]
    cases = json.loads(CASES_FILE.read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["comment"]) for case in cases]


@pytest.mark.parametrize("case", _cases())
def test_official_case(case):
    doc = copy.deepcopy(case["doc"])
    if "error" in case:
        with pytest.raises(Unprocessable):
            apply_json_patch(case["doc"], case["patch"])
    else:
        assert apply_json_patch(case["doc"], case["patch"]) == case["expected"]
    assert case["doc"] == doc  # the input is never changed


PATIENT = {"resourceType": "Patient", "id": "p1", "name": [{"family": "Chalmers", "given": ["Peter"]}]}


@pytest.mark.parametrize(
    "operations",
    [
        pytest.param({"op": "add", "path": "/active", "value": True}, id="not an array"),
        pytest.param([{"op": "frobnicate", "path": "/active"}], id="unknown op"),
        pytest.param([{"path": "/active", "value": True}], id="no op"),
        pytest.param([{"op": "add", "value": True}], id="no path"),
        pytest.param([{"op": "add", "path": "active", "value": True}], id="pointer without /"),
        pytest.param([{"op": "add", "path": "/active"}], id="no value"),
        pytest.param(["add"], id="not an object"),
    ],
)
def test_malformed_patch_is_bad_request(operations):
    with pytest.raises(BadRequest):
        apply_json_patch(PATIENT, operations)


def test_missing_target_is_unprocessable_naming_operation_and_path():
    operations = [
        {"op": "add", "path": "/active", "value": True},
        {"op": "replace", "path": "/name/0/suffix", "value": "Jr"},
    ]
    with pytest.raises(Unprocessable) as caught:
        apply_json_patch(PATIENT, operations)
    assert "operation 1" in caught.value.diagnostics
    assert "/name/0/suffix" in caught.value.diagnostics
    assert caught.value.expression == ["Patient.name[0].suffix"]
    assert caught.value.status == 422


def test_failed_test_op_is_unprocessable():
    with pytest.raises(Unprocessable) as caught:
        apply_json_patch(PATIENT, [{"op": "test", "path": "/name/0/family", "value": "Smith"}])
    assert "operation 0" in caught.value.diagnostics


def test_result_is_a_new_dict():
    patched = apply_json_patch(PATIENT, [{"op": "add", "path": "/name/0/given/-", "value": "James"}])
    assert patched["name"][0]["given"] == ["Peter", "James"]
    assert PATIENT["name"][0]["given"] == ["Peter"]
