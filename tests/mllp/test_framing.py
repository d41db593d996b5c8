"""MLLP framing: frames split anywhere, junk between frames, cut-off and oversized frames."""

from __future__ import annotations

from interfaces.mllp.framing import END, START, Decoder, frame


def test_frames_split_at_every_byte_come_out_whole():
    stream = b"noise" + frame(b"MSH|one") + b"\r\n" + frame(b"MSH|two")
    decoder = Decoder(1000)
    frames = [f for i in range(len(stream)) for f in decoder.feed(stream[i:i + 1])]
    assert [f.payload for f in frames] == [b"MSH|one", b"MSH|two"]
    assert decoder.pending == 0


def test_a_new_start_block_reports_the_cut_off_frame():
    frames = Decoder(1000).feed(START + b"MSH|cut" + START + b"MSH|next" + END)
    assert [(f.payload, f.truncated) for f in frames] == [(b"MSH|cut", True), (b"MSH|next", False)]


def test_oversized_frame_is_reported_once_and_memory_stays_bounded():
    decoder = Decoder(100)
    out = decoder.feed(START + b"MSH|" + b"x" * 50)
    out += decoder.feed(b"y" * 10_000)
    assert decoder.pending <= 100
    out += decoder.feed(END + frame(b"MSH|ok"))
    assert [(f.oversize, len(f.payload) <= 100) for f in out] == [(True, True), (False, True)]
    assert out[0].payload.startswith(b"MSH|") and out[1].payload == b"MSH|ok"


def test_unfinished_frame_is_pending():
    decoder = Decoder(1000)
    assert decoder.feed(START + b"MSH|half") == []
    assert decoder.pending == len(b"MSH|half")
