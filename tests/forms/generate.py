"""Synthetic scanned forms with ground truth, drawn from the form templates.

Each page is the template rendered with Pillow at 300 dpi (title, labels, boxes), its
boxes filled with synthetic values, then scanned badly: a slight rotation and shift,
grey noise and specks. Files are PNG, JPEG, TIFF or PDF (several pages in one file).
Tick boxes get a tick or a cross drawn with a pen of varying width; a tick-box item named
in ``faults`` is a correction instead (one box scribbled over, the other ticked: its
truth is "", the item must go to review). Fields named in ``Scan.handwritten`` are drawn
as a wobbly hand instead of a font (the engine cannot read handwriting: review).

    .venv/bin/python -m tests.forms.generate OUT_DIR [--count N] [--seed S]

writes the files and ``truth.json`` (file -> pages -> template and printed values).
All values are synthetic; the identifiers carry valid check keys unless a fault is asked for.
"""

from __future__ import annotations

import argparse
import json
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mappers.forms.checks import luhn_ok, nir_key
from mappers.forms.templates import Template, load_templates

DPI = 300
FONTS = Path("/usr/share/fonts/truetype/dejavu")
VALUE_FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")

FR_FAMILY = ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Chevalier", "Fontaine",
             "Le Gall", "Da Silva", "Nguyen", "Mercier", "Faure", "Perrin", "Gauthier", "Bonnet", "Lemaire"]
FR_GIVEN = ["Hélène", "François", "Zoé", "Jean-Luc", "Anaïs", "Loïc", "Cécile", "Étienne", "Chloé", "Mathis",
            "Inès", "Raphaël", "Léa", "Noël", "Camille", "Thérèse", "Hugo", "Maëlle"]
US_FAMILY = ["Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
             "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "O'Neil", "Clark"]
US_GIVEN = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Susan",
            "Emily", "Daniel", "Sarah", "Kevin", "Laura", "Brian", "Megan", "Jason"]
FR_STREETS = ["rue des Lilas", "avenue Jean Jaurès", "boulevard Victor Hugo", "place de la Mairie",
              "chemin des Vignes", "rue du Moulin", "allée des Tilleuls", "impasse Pasteur"]
US_STREETS = ["Maple Street", "Oak Avenue", "Cedar Lane", "Washington Blvd", "Lincoln Road", "Pine Court",
              "Elm Drive", "Sunset Way"]
FR_CITIES = [("Lyon", "69003"), ("Saint-Étienne", "42000"), ("Rennes", "35000"), ("Ajaccio", "20000"),
             ("Nantes", "44000"), ("Besançon", "25000"), ("Toulouse", "31400"), ("Lille", "59000")]
US_CITIES = [("Springfield", "IL", "62704"), ("Portland", "OR", "97205"), ("Austin", "TX", "78701"),
             ("Madison", "WI", "53703"), ("Denver", "CO", "80202"), ("Raleigh", "NC", "27601")]
FR_ALLERGENS = ["pénicillines", "amoxicilline", "aspirine", "ibuprofène", "codéine", "céphalosporines"]
US_ALLERGENS = ["penicillins", "amoxicillin", "aspirin", "ibuprofen", "codeine", "cephalosporins"]
FR_DRUGS = ["metformine", "ramipril", "paracétamol", "lévothyroxine", "amlodipine", "atorvastatine", "warfarine"]
US_DRUGS = ["metformin", "lisinopril", "acetaminophen", "levothyroxine", "amlodipine", "atorvastatin", "warfarin"]
FR_PAYORS = ["MGEN", "Harmonie Mutuelle", "Malakoff Humanis", "MAAF Santé", "Groupama"]
US_PAYORS = ["Aetna", "Blue Cross Blue Shield", "UnitedHealthcare", "Cigna", "Humana"]
FR_REASONS = ["Bilan cardiologique", "Avis chirurgical pour hernie inguinale", "Suivi diabète de type 2",
              "Douleurs lombaires chroniques", "Bilan de chutes répétées"]
US_REASONS = ["Cardiology evaluation", "Surgical opinion for inguinal hernia", "Type 2 diabetes follow-up",
              "Chronic low back pain", "Evaluation of recurrent falls"]


def mm(value: float) -> int:
    return round(value / 25.4 * DPI)


def nir(rng: random.Random) -> str:
    department = rng.choice(["2A", "2B", *(f"{d:02d}" for d in (1, 13, 35, 42, 69, 75, 93))])
    first = f"{rng.choice('12')}{rng.randint(30, 99):02d}{rng.randint(1, 12):02d}{department}" \
            f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    return f"{first}{nir_key(first):02d}"


def luhn_number(rng: random.Random, prefix: str, length: int, hidden_prefix: str = "") -> str:
    while True:
        body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
        for d in string.digits:
            if luhn_ok(hidden_prefix + body + d):
                return body + d


def spaced(digits: str, groups: tuple[int, ...]) -> str:
    out, i = [], 0
    for g in groups:
        out.append(digits[i:i + g])
        i += g
    return " ".join(out)


def _date(rng: random.Random, fmt: str, first_year: int, last_year: int) -> str:
    y, m, d = rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28)
    return {"DD/MM/YYYY": f"{d:02d}/{m:02d}/{y}", "MM/DD/YYYY": f"{m:02d}/{d:02d}/{y}"}.get(fmt, f"{y}-{m:02d}-{d:02d}")


def values_for(template: Template, rng: random.Random, faults: frozenset[str] = frozenset()) -> dict[str, str]:
    """Printed text per linkId (a tick-box item: the label of the box ticked). A linkId in
    ``faults`` gets a value that must fail its check (a tick-box item: a correction, "")."""
    fr = template.language.startswith("fr")
    family, given = (FR_FAMILY, FR_GIVEN) if fr else (US_FAMILY, US_GIVEN)
    city = rng.choice(FR_CITIES if fr else US_CITIES)
    allergens, drugs = (FR_ALLERGENS, FR_DRUGS) if fr else (US_ALLERGENS, US_DRUGS)
    n_allergies = rng.choice((0, 1, 1, 2))
    phone = (lambda: "0" + str(rng.randint(1, 9)) + " " + spaced("".join(rng.choice(string.digits) for _ in range(8)),
                                                                     (2, 2, 2, 2))) if fr else \
        (lambda: f"({rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}) {rng.randint(200, 999)}-"
                 f"{rng.randint(0, 9999):04d}")
    makers = {
        "patient.family": lambda: rng.choice(family), "patient.given": lambda: rng.choice(given),
        "practitioner.family": lambda: rng.choice(family), "practitioner.given": lambda: rng.choice(given),
        "patient.birthDate": lambda: _date(rng, template.date_format, 1935, 2020),
        "referral.date": lambda: _date(rng, template.date_format, 2024, 2026),
        "patient.gender": lambda: rng.choice("MF"),
        "patient.nir": lambda: spaced(nir(rng), (1, 2, 2, 2, 3, 3, 2)),
        "patient.mrn": lambda: "H" + "".join(rng.choice(string.digits) for _ in range(7)),
        "patient.address.line": lambda: f"{rng.randint(1, 240)} {rng.choice(FR_STREETS if fr else US_STREETS)}",
        "patient.address.city": lambda: city[0],
        "patient.address.state": lambda: city[1],
        "patient.address.postalCode": lambda: city[-1],
        "patient.phone": phone, "practitioner.phone": phone,
        "allergies": lambda: ", ".join(rng.sample(allergens, n_allergies)) or ("aucune" if fr else "None"),
        "medications": lambda: ", ".join(rng.sample(drugs, rng.randint(1, 2))),
        "coverage.payor": lambda: rng.choice(FR_PAYORS if fr else US_PAYORS),
        "coverage.subscriberId": lambda: "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
                                         + "".join(rng.choice(string.digits) for _ in range(7)),
        "practitioner.rpps": lambda: luhn_number(rng, "10", 11),
        "practitioner.npi": lambda: luhn_number(rng, rng.choice("12"), 10, hidden_prefix="80840"),
        "referral.reason": lambda: rng.choice(FR_REASONS if fr else US_REASONS),
    }
    values = {f.link_id: rng.choice(f.options).label if f.is_tick else makers[f.link_id]()
              for f in template.fields}
    if "allergies.known" in values and "allergies" in values:  # the two agree on a filled-in form
        known = template.field("allergies.known").options
        none = template.check(template.field("allergies"), values["allergies"]).value == []
        values["allergies.known"] = next(o.label for o in known if o.answer is not none)
    for link_id in faults:
        values[link_id] = "" if template.field(link_id).is_tick else _faulty(link_id, values[link_id])
    return values


def _faulty(link_id: str, value: str) -> str:
    """The same value with one digit changed, so that its check key no longer matches."""
    digits = [i for i, c in enumerate(value) if c.isdigit()]
    i = digits[len(digits) // 2]
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1:]


@dataclass
class Scan:
    """How badly a page is scanned."""

    angle: float = 0.0  # degrees
    shift: tuple[int, int] = (0, 0)  # pixels
    noise: float = 0.0  # standard deviation of grey noise
    specks: int = 0
    value_font: str = VALUE_FONTS[0]
    extra: dict = field(default_factory=dict)
    handwritten: frozenset[str] = frozenset()  # linkIds written by "hand"

    @classmethod
    def random(cls, rng: random.Random) -> Scan:
        return cls(rng.uniform(-1.5, 1.5), (rng.randint(-25, 25), rng.randint(-25, 25)), rng.uniform(6, 14),
                   rng.randint(200, 800), rng.choice(VALUE_FONTS))


def render(template: Template, values: dict[str, str], scan: Scan, seed: int = 0) -> Image.Image:
    width, height = mm(template.page_mm[0]), mm(template.page_mm[1])
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    title_font = ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 80)
    label_font = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 40)
    value_font = ImageFont.truetype(str(FONTS / scan.value_font), 46)
    x, y, w, h = template.title_box_mm
    draw.text((mm(x), mm(y) + mm(h) // 2), template.title, font=title_font, anchor="lm", fill=0)
    rng = random.Random(seed)
    for f in template.fields:
        x, y, w, h = f.box_mm
        draw.text((mm(15), mm(y) + mm(h) // 2), f.label, font=label_font, anchor="lm", fill=0)
        if f.is_tick:
            _tick_boxes(draw, f, values.get(f.link_id, ""), label_font, rng)
            continue
        draw.rectangle((mm(x), mm(y), mm(x + w), mm(y + h)), outline=0, width=4)
        if f.link_id in scan.handwritten:
            _handwrite(page, values.get(f.link_id, ""), (mm(x) + 24, mm(y) + mm(h) // 2), rng)
        else:
            draw.text((mm(x) + 24, mm(y) + mm(h) // 2), values.get(f.link_id, ""), font=value_font, anchor="lm",
                      fill=0)
    return degrade(page, scan, seed)


def _tick_boxes(draw: ImageDraw.ImageDraw, f, ticked: str, font, rng: random.Random) -> None:
    """The boxes and their labels; the box labelled ``ticked`` gets a tick or a cross
    ("": a correction, the first box scribbled over and the second ticked)."""
    for n, option in enumerate(f.options):
        x, y, w, h = (mm(v) for v in option.box_mm)
        draw.rectangle((x, y, x + w, y + h), outline=0, width=4)
        draw.text((x + w + mm(2), y + h // 2), option.label, font=font, anchor="lm", fill=0)
        if option.label == ticked or (ticked == "" and n == 1):
            _mark(draw, (x, y, w, h), rng)
        elif ticked == "" and n == 0:
            _scribble(draw, (x, y, w, h), rng)


def _mark(draw: ImageDraw.ImageDraw, box, rng: random.Random) -> None:
    x, y, w, h = box
    pen = rng.randint(4, 8)

    def at(fx: float, fy: float) -> tuple[int, int]:  # a point of the box, a little off where aimed
        return round(x + w * (fx + rng.uniform(-0.06, 0.06))), round(y + h * (fy + rng.uniform(-0.06, 0.06)))

    if rng.random() < 0.5:  # a tick
        draw.line([at(0.15, 0.55), at(0.4, 0.85), at(0.9, 0.1)], fill=0, width=pen, joint="curve")
    else:  # a cross
        draw.line([at(0.12, 0.12), at(0.88, 0.88)], fill=0, width=pen)
        draw.line([at(0.88, 0.12), at(0.12, 0.88)], fill=0, width=pen)


def _scribble(draw: ImageDraw.ImageDraw, box, rng: random.Random) -> None:
    """Back-and-forth strokes over the whole box, as when a tick is cancelled."""
    x, y, w, h = box
    points = []
    for i in range(rng.randint(7, 14)):
        points.append((x + rng.uniform(-0.1, 0.15) * w if i % 2 else x + rng.uniform(0.85, 1.1) * w,
                       y + h * (i + rng.uniform(0, 0.8)) / 12))
    draw.line(points, fill=0, width=rng.randint(7, 10), joint="curve")
    draw.line([(px + rng.uniform(-4, 4), py + h / 24) for px, py in points], fill=0, width=rng.randint(7, 10))


def _handwrite(page: Image.Image, text: str, at: tuple[int, int], rng: random.Random) -> None:
    """``text`` as an irregular hand: each letter its own size, slant and height, the line
    wavy (no handwriting font is installed; the point is that no engine reads it well)."""
    import numpy as np

    fonts = [ImageFont.truetype(str(FONTS / name), size) for name in ("DejaVuSans-Oblique.ttf",
             "DejaVuSerif-Italic.ttf", "DejaVuSans-ExtraLight.ttf") for size in (38, 46, 54)]
    ink = Image.new("L", (mm(115), mm(9)), 0)
    x = 0
    for char in text:
        glyph = Image.new("L", (90, 110), 0)
        ImageDraw.Draw(glyph).text((20, 55), char, font=rng.choice(fonts), anchor="lm", fill=255)
        glyph = glyph.rotate(rng.uniform(-25, 25), resample=Image.BICUBIC)
        ink.paste(255, (x, rng.randint(-12, 12) + (ink.height - 110) // 2), glyph)
        x += round(glyph.getbbox()[2] - 20 if glyph.getbbox() else 20) + rng.randint(-3, 4)
    waves = np.asarray(ink, dtype=np.float32)
    rows = np.arange(waves.shape[1])
    for col in range(0, waves.shape[1]):  # the line rises and falls
        waves[:, col] = np.roll(waves[:, col], round(9 * np.sin(rows[col] / 37.0 + rng.random() * 0.3)))
    page.paste(0, (at[0], at[1] - ink.height // 2), Image.fromarray(waves.astype("uint8"), "L"))


def degrade(page: Image.Image, scan: Scan, seed: int) -> Image.Image:
    import numpy as np

    page = page.rotate(scan.angle, resample=Image.BICUBIC, fillcolor=255, translate=scan.shift)
    page = page.filter(ImageFilter.GaussianBlur(0.7))
    rng = np.random.default_rng(seed)
    pixels = np.asarray(page, dtype=np.float32) + rng.normal(0, scan.noise, (page.height, page.width))
    ys, xs = rng.integers(0, page.height, scan.specks), rng.integers(0, page.width, scan.specks)
    pixels[ys, xs] = rng.integers(0, 120, scan.specks)
    return Image.fromarray(np.clip(pixels, 0, 255).astype("uint8"), "L")


def save(pages: list[Image.Image], path: Path) -> None:
    """One file in the format its suffix names; PDF and TIFF hold every page."""
    kind = path.suffix.lower().lstrip(".")
    if kind == "pdf":
        pages[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    elif kind in ("tif", "tiff"):
        pages[0].save(path, "TIFF", compression="tiff_deflate", dpi=(DPI, DPI), save_all=True,
                      append_images=pages[1:])
    elif kind in ("jpg", "jpeg"):
        pages[0].save(path, "JPEG", quality=85, dpi=(DPI, DPI))
    else:
        pages[0].save(path, "PNG", dpi=(DPI, DPI))


def generate(out: Path, count: int, seed: int, *, kinds=("png", "jpg", "tiff", "pdf"),
             template_ids: list[str] | None = None, faults: frozenset[str] = frozenset(),
             corrections: float = 0.0, handwritten: float = 0.0) -> dict:
    """``count`` files cycling through the formats and templates; PDFs get two pages.
    ``corrections``: the share of tick-box items drawn as a correction (must go to review);
    ``handwritten``: the share of written fields drawn by hand (listed in the truth)."""
    templates = load_templates()
    ids = template_ids or sorted(templates)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for n in range(count):
        kind = kinds[n % len(kinds)]
        pages, page_truth = [], []
        for p in range(2 if kind == "pdf" else 1):
            template = templates[ids[(n + p) % len(ids)]]
            corrected = frozenset(f.link_id for f in template.fields if f.is_tick and rng.random() < corrections)
            values = values_for(template, rng, faults | corrected)
            scan = Scan.random(rng)
            scan.handwritten = frozenset(f.link_id for f in template.fields
                                         if not f.is_tick and handwritten and rng.random() < handwritten)
            pages.append(render(template, values, scan, seed=rng.randrange(2**31)))
            page_truth.append({"template": template.id, "values": values, "handwritten": sorted(scan.handwritten)})
        name = f"form-{n:04d}.{kind}"
        save(pages, out / name)
        truth[name] = page_truth
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    generate(args.out, args.count, args.seed)
    print(f"{args.count} files in {args.out}")


if __name__ == "__main__":
    main()
