"""FHIRPath Patch against the official cases (shared/fhir-tests/patch/fhir-patch-tests.xml).

The cases are FHIR XML; fhir.resources reads them (it needs lxml) and gives FHIR JSON.
"""

import copy
import json
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from server.errors import BadRequest, Unprocessable
from server.patch import apply_fhirpath_patch

try:
    from lxml import etree
except ImportError:  # only the official cases need it
    etree = None

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CASES_FILE = SHARED / "fhir-tests/patch/fhir-patch-tests.xml"
XHTML = "{http://www.w3.org/1999/xhtml}"


def fhir_json(element) -> dict:
    """A FHIR XML element (a resource) as FHIR JSON."""
    for div in element.iter(f"{XHTML}div"):
        # the whitespace after </div> belongs to the enclosing FHIR XML, not the XHTML
        if not div.getparent().tag.startswith(XHTML):
            div.tail = None
    model = get_fhir_model_class(etree.QName(element).localname)
    xml = etree.tostring(element, encoding="unicode")
    return json.loads(model.model_validate_xml(xml).model_dump_json())


def _resource_in(case, name):
    holder = case.find(name)
    if holder is None:
        return None
    return fhir_json(next(child for child in holder if isinstance(child.tag, str)))


def _cases():
    if not CASES_FILE.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CASES_FILE} not found"))]
    if etree is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="the XML cases need lxml"))]
    parser = etree.XMLParser(remove_comments=True)  # XML comments are not content
    root = etree.parse(str(CASES_FILE), parser).getroot()
    return [pytest.param(case, id=case.get("name")) for case in root.iter("case")]


CASES = _cases()


def test_all_cases_are_read():
    if CASES[0].values[0] is not None:
        assert len(CASES) == 33


@pytest.mark.parametrize("case", CASES)
def test_official_case(case):
    resource, parameters = _resource_in(case, "input"), _resource_in(case, "diff")
    original = copy.deepcopy(resource)
    error = case.find("error")
    if error is not None:
        with pytest.raises(Unprocessable) as caught:
            apply_fhirpath_patch(resource, parameters)
        assert error.get("msg") in caught.value.diagnostics
    else:
        assert apply_fhirpath_patch(resource, parameters) == _resource_in(case, "output")
    assert resource == original  # the input is never changed


# --- error mapping and the spec's rules, beyond the official cases -------------------

BIRTH_TIME = {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1974-12-25T14:35"}
EXT = {"url": "http://example.org/ext", "valueString": "x"}
PATIENT = {
    "resourceType": "Patient",
    "birthDate": "1974-12-25",
    "_birthDate": {"extension": [BIRTH_TIME]},
    "name": [{"family": "Chalmers", "given": ["Peter", "James"]}, {"given": ["Jim"]}],
    "deceasedBoolean": False,
}


def op(type_, path, **parts):
    """One operation parameter; ``value`` is given as its value[x] members."""
    part = [{"name": "type", "valueCode": type_}, {"name": "path", "valueString": path}]
    for name, value in parts.items():
        if name in ("index", "source", "destination"):
            part.append({"name": name, "valueInteger": value})
        elif name == "name":
            part.append({"name": name, "valueString": value})
        else:
            part.append({"name": "value", **value})
    return {"name": "operation", "part": part}


def patch(*operations):
    return {"resourceType": "Parameters", "parameter": list(operations)}


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param({"resourceType": "Patient"}, id="not Parameters"),
        pytest.param(patch(op("frobnicate", "Patient.birthDate")), id="unknown type"),
        pytest.param(patch({"name": "operation", "part": [{"name": "path", "valueString": "Patient"}]}), id="no type"),
        pytest.param(patch(op("replace", "Patient.birthDate")), id="replace without value"),
        pytest.param(patch(op("add", "Patient", value={"valueDate": "2000-01-01"})), id="add without name"),
        pytest.param(patch(op("delete", "Patient.name[")), id="not FHIRPath"),
        pytest.param(patch(op("move", "Patient.name", source=-1, destination=0)), id="negative index"),
        pytest.param(patch({"name": "not-an-operation", "part": []}), id="not an operation"),
    ],
)
def test_malformed_patch_is_bad_request(parameters):
    with pytest.raises(BadRequest):
        apply_fhirpath_patch(PATIENT, parameters)


CANNOT_APPLY = [
    (op("replace", "Patient.gender", value={"valueCode": "male"}), "No content found at Patient.gender"),
    (op("replace", "Patient.name.given", value={"valueString": "X"}), "matches 3 elements"),
    (op("delete", "Patient.name"), "only one can be deleted"),
    (op("add", "Patient", name="birthDate", value={"valueDate": "2000-01-01"}), "already has a value"),
    (op("add", "Patient", name="nickname", value={"valueString": "Jim"}), "no element 'nickname'"),
    (op("add", "Patient", name="maritalStatus", value={"valueString": "x"}), "is a CodeableConcept"),
    (op("insert", "Patient.name", index=3, value={"valueHumanName": {}}), "index 3 is out of range"),
    (op("move", "Patient.name", source=0, destination=2), "destination 2 is out of range"),
    (op("replace", "Patient.name[0].family.lower()", value={"valueString": "x"}), "not an element"),
]


@pytest.mark.parametrize("operation, message", [pytest.param(*c, id=c[1]) for c in CANNOT_APPLY])
def test_patch_that_cannot_apply_is_unprocessable(operation, message):
    with pytest.raises(Unprocessable) as caught:
        apply_fhirpath_patch(PATIENT, patch(op("delete", "Patient.active"), operation))
    assert "Parameters.parameter[1]" in caught.value.diagnostics  # which operation
    assert message in caught.value.diagnostics
    assert caught.value.expression == [operation["part"][1]["valueString"]]  # its path
    assert caught.value.status == 422


def test_delete_of_nothing_is_not_an_error():
    assert apply_fhirpath_patch(PATIENT, patch(op("delete", "Patient.gender"))) == PATIENT


def test_primitive_extensions_follow_their_value():
    deleted = apply_fhirpath_patch(PATIENT, patch(op("delete", "Patient.birthDate")))
    assert "birthDate" not in deleted and "_birthDate" not in deleted

    given = "Patient.name[0].given"
    extended = apply_fhirpath_patch(
        PATIENT, patch(op("add", f"{given}[1]", name="extension", value={"valueExtension": EXT}))
    )
    assert extended["name"][0]["_given"] == [None, {"extension": [EXT]}]
    moved = apply_fhirpath_patch(extended, patch(op("move", given, source=1, destination=0)))
    assert moved["name"][0]["given"] == ["James", "Peter"]
    assert moved["name"][0]["_given"] == [{"extension": [EXT]}, None]
    removed = apply_fhirpath_patch(extended, patch(op("delete", f"{given}[1].extension")))
    assert "_given" not in removed["name"][0]

    on_single = apply_fhirpath_patch(
        PATIENT, patch(op("add", "Patient.birthDate", name="extension", value={"valueExtension": EXT}))
    )
    assert on_single["_birthDate"] == {"extension": [BIRTH_TIME, EXT]}


def test_choice_elements_functions_and_absent_lists():
    patched = apply_fhirpath_patch(
        PATIENT,
        patch(
            op("replace", "Patient.deceased", value={"valueDateTime": "2020-01-01"}),
            op("replace", "Patient.name.where(family = 'Chalmers').given.first()", value={"valueString": "Pete"}),
            op("insert", "Patient.telecom", index=0, value={"valueContactPoint": {"system": "phone"}}),
        ),
    )
    assert "deceasedBoolean" not in patched and patched["deceasedDateTime"] == "2020-01-01"
    assert patched["name"][0]["given"] == ["Pete", "James"]
    assert patched["telecom"] == [{"system": "phone"}]
