"""split_batch(): batch files (FHS/BHS/BTS/FTS) and plain files of several messages."""

from __future__ import annotations

import pytest

from mappers.hl7v2 import ParseError, parse, split_batch

from .helpers import SHARED

PY = SHARED / "python-hl7"


@pytest.mark.parametrize("name, count", [
    ("samples__sample_batch__03.hl7", 1), ("samples__sample_batch1__04.hl7", 2),
    ("samples__sample_batch2__05.hl7", 2), ("samples__sample_file__10.hl7", 1),
    ("samples__sample_file1__11.hl7", 3), ("samples__sample_file2__12.hl7", 2),
    # headers without trailers and trailers without headers: senders do that, we read them
    ("samples__sample_batch3__06.hl7", 1), ("samples__sample_batch4__07.hl7", 1),
    ("samples__sample_file3__13.hl7", 1), ("samples__sample_file6__16.hl7", 1),
])
def test_batch_files(name, count):
    messages = split_batch((PY / name).read_bytes())
    assert len(messages) == count
    for raw in messages:
        m = parse(raw)
        assert m.header.message_code == "ADT" and not any(s.name in ("BHS", "BTS", "FHS", "FTS") for s in m.segments)


@pytest.mark.parametrize("name, segment, line", [
    ("samples__sample_bad_batch__08.hl7", "EVN", 2),  # BHS then EVN: no MSH
    ("samples__sample_bad_batch1__09.hl7", "PID", 5),  # a second BHS cuts a message in two
    ("samples__sample_bad_file__17.hl7", "EVN", 3),
    ("samples__sample_bad_file1__18.hl7", "PID", 6),
    ("samples__sample_bad_file2__19.hl7", "FHS", 5),  # FHS in the middle
    ("samples__sample_bad_file3__20.hl7", "EVN", 2),
])
def test_broken_batches_name_the_line(name, segment, line):
    with pytest.raises(ParseError) as err:
        split_batch((PY / name).read_bytes())
    assert err.value.segment == segment and err.value.code == "100"
    assert f"line {line}:" in err.value.text


def test_plain_file_of_messages_with_lf_and_bom():
    one = "MSH|^~\\&|A|F|||20240301||ADT^A08|C{}|P|2.5\nPID|1||{}\n"
    raw = b"\xef\xbb\xbf" + "".join(one.format(i, i) for i in range(3)).encode() + b"\n\n"
    messages = split_batch(raw)
    assert [parse(m).header.control_id for m in messages] == ["C0", "C1", "C2"]
    assert all(m.endswith(b"\r") and b"\n" not in m for m in messages)


def test_batch_count_mismatch_is_a_truncated_batch():
    raw = (b"BHS|^~\\&|A\rMSH|^~\\&|A|F|||20240301||ADT^A08|C1|P|2.5\rPID|1||1\r"
           b"BTS|2\r")
    with pytest.raises(ParseError) as err:
        split_batch(raw)
    assert (err.value.segment, err.value.field) == ("BTS", 1) and "announces 2" in err.value.text


def test_nothing_after_fts():
    raw = b"FHS|^~\\&\rMSH|^~\\&|A|F|||20240301||ADT^A08|C1|P|2.5\rFTS|1\rMSH|^~\\&|A\r"
    with pytest.raises(ParseError) as err:
        split_batch(raw)
    assert err.value.segment == "FTS"


def test_empty_file():
    assert split_batch(b"") == []
