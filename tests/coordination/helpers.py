"""Helpers for the coordination tests: schedule data and Parameters."""

from __future__ import annotations

DAY = "2031-03-03"


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def at(hour: int, minute: int, day: str = DAY) -> str:
    return f"{day}T{hour:02d}:{minute:02d}:00Z"


def calendar(fhir, actor: str, times: list[tuple[str, str]], *, status: dict | None = None,
             **schedule) -> tuple[dict, list[dict]]:
    """A Schedule for ``actor`` and its Slots (free unless ``status`` says otherwise for an index)."""
    sched = created(fhir.post("/Schedule", json={"resourceType": "Schedule", "actor": [{"reference": actor}],
                                                 **schedule}))
    slots = [created(fhir.post("/Slot", json={
        "resourceType": "Slot", "schedule": {"reference": f"Schedule/{sched['id']}"},
        "status": (status or {}).get(i, "free"), "start": start, "end": end}))
        for i, (start, end) in enumerate(times)]
    return sched, slots


def quarter_hours(hour: int, count: int, day: str = DAY) -> list[tuple[str, str]]:
    out = []
    for i in range(count):
        minute = hour * 60 + 15 * i
        out.append((at(minute // 60, minute % 60, day), at((minute + 15) // 60, (minute + 15) % 60, day)))
    return out


def parameters(**values) -> dict:
    """A Parameters resource; dict values are resources or typed values {"valueX": ...}."""
    out = []
    for name, value in values.items():
        name = name.replace("_", "-") if not name.startswith("_") else name
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "resourceType" in item:
                out.append({"name": name, "resource": item})
            elif isinstance(item, dict):
                out.append({"name": name, **item})
            else:
                out.append({"name": name, "valueString": str(item)})
    return {"resourceType": "Parameters", "parameter": out}

