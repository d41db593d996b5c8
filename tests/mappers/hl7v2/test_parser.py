"""parse(): the fast tolerant reader, on our messages and on the shared samples."""

from __future__ import annotations

import pytest

from mappers.hl7v2 import Encoding, ParseError, parse

from .helpers import SHARED, sample

MSH = "MSH|^~\\&|APP^1.2.3^ISO|FAC|RCV|RFAC|20240301101500+0100||ADT^A01^ADT_A01|CTRL-1|P|2.5|||AL|NE"


def msg(*segments: str, sep: str = "\r") -> str:
    return sep.join(segments) + sep


def test_header_fields_as_written():
    m = parse(msg(MSH, "PID|1||42^^^HOSP^MR||DOE^JOHN"))
    h = m.header
    assert (h.sending_application, h.sending_facility, h.receiving_application, h.receiving_facility) == (
        "APP^1.2.3^ISO", "FAC", "RCV", "RFAC")
    assert (h.message_code, h.trigger_event, h.structure, h.control_id) == ("ADT", "A01", "ADT_A01", "CTRL-1")
    assert (h.datetime, h.processing_id, h.version) == ("20240301101500+0100", "P", "2.5")
    assert (h.accept_ack_type, h.application_ack_type, h.charset) == ("AL", "NE", "")
    assert m.encoding == Encoding("|", "^", "~", "\\", "&")
    msh = m.segment("MSH")
    assert msh.get(1) == "|" and msh.get(2) == "^~\\&" and msh.get(10) == "CTRL-1"  # numbered as the standard
    assert m.type == "ADT^A01"


@pytest.mark.parametrize("sep", ["\r", "\n", "\r\n"])
def test_segment_ends_cr_lf_crlf(sep):
    m = parse(msg(MSH, "PID|1||42^^^HOSP^MR", "PV1|1|I", sep=sep).encode())
    assert [s.name for s in m.segments] == ["MSH", "PID", "PV1"]
    assert m.segment("PV1").get(2) == "I"


def test_byte_order_mark_and_mllp_bytes_are_ignored():
    m = parse(b"\x0b\xef\xbb\xbf" + msg(MSH, "PID|1||42").encode() + b"\x1c\r")
    assert m.header.control_id == "CTRL-1"
    assert m.segment("PID").get(3) == "42"


def test_charset_from_msh18_latin1():
    text = msg(MSH + "||8859/1", "PID|1||42||Hélène^Zoë")
    m = parse(text.encode("latin-1"))
    assert m.charset == "latin-1"
    assert m.header.charset == "8859/1"
    assert m.segment("PID").get(5, 1) == "Hélène" and m.segment("PID").get(5, 2) == "Zoë"


def test_charset_default_utf8_then_latin1():
    assert parse(msg(MSH, "PID|1||42||Hélène").encode("utf-8")).segment("PID").get(5) == "Hélène"
    m = parse(msg(MSH, "PID|1||42||Hélène").encode("latin-1"))  # no MSH-18, not UTF-8
    assert m.charset == "latin-1" and m.segment("PID").get(5) == "Hélène"


def test_declared_utf8_and_ascii():
    m = parse(msg(MSH + "||UNICODE UTF-8", "PID|1||42||Ærø").encode("utf-8"))
    assert m.charset == "utf-8" and m.segment("PID").get(5) == "Ærø"
    assert parse(msg(MSH + "||ASCII", "PID|1||42||DOE").encode()).charset == "ascii"


def test_custom_encoding_characters():
    m = parse("MSH#$%@!#APP#FAC#R#RF#20240301##ADT$A08#C2#P#2.4\rPID#1##42$$$HOSP$MR%43$$$OTHER##DOE$JO!HN\r")
    assert m.encoding == Encoding("#", "$", "%", "@", "!")
    pid = m.segment("PID")
    assert [r.get(1) for r in pid.reps(3)] == ["42", "43"]
    assert pid.reps(3)[1].get(4) == "OTHER"
    assert pid.get(5, 2, 1) == "JO" and pid.get(5, 2, 2) == "HN"
    assert m.header.trigger_event == "A08"


def test_escape_sequences():
    pid = parse(msg(MSH, "NTE|1||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X41C3A9\\g\\.br\\h\\H\\bold\\N\\")).segment("NTE")
    assert pid.get(3) == "a|b^c&d~e\\fAég\nhbold"


def test_escaped_separators_do_not_split():
    nte = parse(msg(MSH, "NTE|1||x\\S\\y^z")).segment("NTE")
    assert nte.get(3, 1) == "x^y" and nte.get(3, 2) == "z"


def test_unknown_or_unterminated_escape_is_kept():
    assert parse(msg(MSH, "NTE|1||C:\\temp\\Q\\x")).segment("NTE").get(3) == "C:\\temp\\Q\\x"
    assert parse(msg(MSH, "NTE|1||50\\ of")).segment("NTE").get(3) == "50\\ of"


def test_repetitions_components_subcomponents():
    pid = parse(msg(MSH, 'PID|1||42^^^HOSP&1.2.250.1.1&ISO^MR~~""~43^^^X^PI||DOE^JOHN')).segment("PID")
    reps = pid.reps(3)
    assert [r.get(1) for r in reps] == ["42", "43"]  # empty and null repetitions skipped
    hd = reps[0].comp(4)
    assert (hd.get(1), hd.get(2), hd.get(3)) == ("HOSP", "1.2.250.1.1", "ISO")
    assert reps[0].get(4) == "HOSP"  # a component read whole gives its first subcomponent
    assert pid.get(3, 4, 2) == "1.2.250.1.1"
    assert pid.get(99) == "" and pid.get(3, 99) == "" and pid.rep(99) is None


def test_null_value_reads_empty():
    pid = parse(msg(MSH, 'PID|1||42||""')).segment("PID")
    assert pid.get(5) == "" and pid.reps(5) == [] and pid.raw(5) == '""'


def test_z_segments_are_kept_in_order():
    m = parse(msg(MSH, "PID|1||42", "ZPI|1|VIP^Très important", "PV1|1|I", "ZPI|2|X"))
    assert [s.name for s in m.segments] == ["MSH", "PID", "ZPI", "PV1", "ZPI"]
    assert [s.sequence for s in m.all("ZPI")] == [1, 2]
    assert m.all("ZPI")[0].get(2, 2) == "Très important"


@pytest.mark.parametrize("version", ["2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8",
                                     "2.8.2"])
def test_versions_2_2_to_2_8(version):
    assert parse(msg(MSH.replace("|2.5|", f"|{version}|"))).header.version == version


@pytest.mark.parametrize("version", ["2.1", "2.9", "3.0", "v2.5"])
def test_other_versions_are_refused(version):
    with pytest.raises(ParseError) as err:
        parse(msg(MSH.replace("|2.5|", f"|{version}|")))
    assert (err.value.segment, err.value.field, err.value.code) == ("MSH", 12, "203")


def test_missing_version_names_msh_12():
    with pytest.raises(ParseError) as err:
        parse(msg("MSH|^~\\&|APP|FAC|||20240301||ADT^A01|C1|P|", "PID|1||42"))
    e = err.value
    assert (e.segment, e.sequence, e.field, e.code) == ("MSH", 1, 12, "101")
    assert "MSH-12" in e.text and str(e).startswith("MSH[1]-12:")


@pytest.mark.parametrize("field, text", [(9, "MSH|^~\\&|A|F|||20240301|||C1|P|2.5"),
                                         (10, "MSH|^~\\&|A|F|||20240301||ADT^A01||P|2.5")])
def test_missing_type_or_control_id(field, text):
    with pytest.raises(ParseError) as err:
        parse(text)
    assert (err.value.field, err.value.code) == (field, "101")


@pytest.mark.parametrize("name, field", [
    ("test_parser__test_parse_message_missing_encoding_chars__m__09.hl7", 2),
    ("test_parser__test_parse_message_missing_encoding_chars_zero__m__07.hl7", 2),
    ("test_parser__test_parse_message_missing_encoding_chars_zero__m__08.hl7", 2),
    ("test_parser__test_parse_message_too_many_encoding_chars__m__10.hl7", 2),
    ("test_parser__test_parse_message_too_many_encoding_chars__m__11.hl7", 2),
    ("test_parser__test_parse_message_duplicate_encoding_chars__m__14.hl7", 2),
    ("test_parser__test_parse_message_duplicate_encoding_chars__m__15.hl7", 2),
    ("test_parser__test_parse_message_incomplete_structure__arg__16.hl7", 10),
    ("test_parser__test_parse_unknown_message_strict__m__13.hl7", 9),
])
def test_broken_hl7apy_samples_are_refused_at_the_right_place(name, field):
    with pytest.raises(ParseError) as err:
        parse((SHARED / "hl7apy" / name).read_bytes())
    assert (err.value.segment, err.value.field) == ("MSH", field)
    assert err.value.code in ("101", "102")


def test_bad_field_separator():
    with pytest.raises(ParseError) as err:
        parse("MSHA^~\\&A\r")
    assert (err.value.field, err.value.code) == (1, "102")


def test_not_a_message():
    with pytest.raises(ParseError) as err:
        parse(b"PID|1||42\r")
    assert err.value.code == "100"
    with pytest.raises(ParseError):
        parse(b"")


def test_truncated_frame_is_refused_with_its_place():
    with pytest.raises(ParseError) as err:
        parse(msg(MSH, "PID|1||42", "PV1|1|I", "OB"))
    assert err.value.code == "100" and "segment 4" in err.value.text


def test_two_messages_in_one_frame():
    with pytest.raises(ParseError) as err:
        parse(msg(MSH, "PID|1||42", MSH))
    assert (err.value.segment, err.value.sequence, err.value.code) == ("MSH", 2, "100")


def test_patient_key_is_the_first_pid3():
    assert parse(msg(MSH, "PID|1||~42^^^HOSP&1.2&ISO^MR~43")).patient_key() == "HOSP&1.2&ISO|42"
    assert parse(msg(MSH, "EVN|A01")).patient_key() is None


def test_to_er7_round_trip():
    text = msg(MSH, "PID|1||42^^^HOSP^MR||DOE^JOHN", "ZPI|1")
    assert parse(text).to_er7() == text


def test_our_samples_parse():
    for name in ("adt_a01.hl7", "oru_r01.hl7", "siu_s12.hl7", "vxu_v04.hl7", "mdm_t02.hl7"):
        assert parse(sample(name)).segments[0].name == "MSH"


def test_every_shared_sample_parses_or_says_why():
    """Robustness: 500 files from six projects; anything wrong is a ParseError, never a crash."""
    from mappers.hl7v2 import split_batch
    read = refused = 0
    for path in sorted(SHARED.rglob("*")):
        if not path.is_file() or path.suffix not in (".hl7", ".txt", "") or path.name == "LICENSE":
            continue
        try:
            messages = split_batch(path.read_bytes())
        except ParseError:
            refused += 1
            continue
        for raw in messages:
            try:
                parse(raw)
                read += 1
            except ParseError as exc:
                assert exc.code in ("100", "101", "102", "203") and exc.segment
                refused += 1
    assert read > 150
