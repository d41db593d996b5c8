"""One mapping unit per v2 message family; ``HANDLERS`` is the inventory.

A handler takes the MapContext and the Message and adds entries; ``to_bundle`` adds the
Provenance and wraps them. Keys are (MSH-9.1, MSH-9.2); the inventory test and
``docs/hl7v2-mapping.md`` read this table.
"""

from __future__ import annotations

from . import adt, dft, mdm, orders, oru, siu, vxu

HANDLERS = {
    **{("ADT", e): adt.adt for e in adt.EVENTS},
    ("ORU", "R01"): oru.oru_r01,
    ("ORM", "O01"): orders.orm_o01,
    ("OML", "O21"): orders.oml_o21,
    ("RDE", "O11"): orders.rde_o11,
    ("VXU", "V04"): vxu.vxu_v04,
    **{("SIU", e): siu.siu for e in siu.EVENTS},
    **{("MDM", e): mdm.mdm for e in mdm.EVENTS},
    ("DFT", "P03"): dft.dft_p03,
}
