"""Hostile and damaged files: every file deepfin reads (model, weights and backup files; price, universe and
delistings files) is refused with a ``ValueError`` that names the file and what is wrong, within a second and
200 MB, and reading a model file writes nothing anywhere. Then crashes: a process killed at random moments
inside ``model.save`` always leaves the previous file whole under the final name."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepfin.finance import RunConfig, load_delistings, load_panel, load_universe
from deepfin.finance.pipeline import workflow
from deepfin.layers import Dense
from deepfin.models import Sequential, load_model
from deepfin.saving import load_backup, load_weights

SECONDS, BYTES = 1.0, 200 * 2**20
MARKER = "deepfin-hostile-marker"


# ------------------------------------------------------------ the good file the corruptions start from
def small_model():
    # named, so the messages the cases expect do not depend on how many layers earlier tests made
    model = Sequential([Dense(4, activation="relu", input_shape=(3,), name="dense"),
                        Dense(1, activation="sigmoid", name="out")])
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    model.fit(np.ones((8, 3), "float32"), np.ones(8, "float32"), epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, bytes]:
    """The members of a small compiled model's file, by name, in order."""
    path = tmp_path_factory.mktemp("good") / "model.keras"
    small_model().save(path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def bomb(good, tmp_path_factory) -> Path:
    """A model file whose weights member inflates 229-fold, to 256 MB of zeros (built once, streamed)."""
    path = tmp_path_factory.mktemp("bomb") / "model.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in ("metadata.json", "config.json"):
            archive.writestr(name, good[name])
        with archive.open("model.weights.npz", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(256):
                member.write(chunk)
    return path


def write_zip(path: Path, members, compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip of ``members`` ((name or ZipInfo, bytes) pairs, duplicates kept) at ``path``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name"
        with zipfile.ZipFile(path, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def npy_header(shape, descr="<f8") -> bytes:
    """A version-1.0 .npy header declaring ``shape`` (the data is up to the caller)."""
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def raw_npz(entries) -> bytes:
    """An .npz of raw (name, bytes, compression) members, headers and all made by the caller."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, compression in entries:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return buffer.getvalue()


def inner_bomb() -> bytes:
    """An .npz whose one array (a valid header, then 64 MB of zeros) is deflated to about 300 kB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("0000.npy", "w") as member:
            member.write(npy_header((2**23,)))
            for _ in range(64):
                member.write(bytes(2**20))
    return buffer.getvalue()


def with_config(good, edit: Callable[[dict], None]) -> bytes:
    config = json.loads(good["config.json"])
    edit(config)
    return json.dumps(config).encode()


def replaced(good, **members) -> list:
    """The good members with some replaced (keyword names use __ for '.')."""
    new = {name.replace("__", "."): data for name, data in members.items()}
    return [(name, new.get(name, data)) for name, data in good.items()]


def forged(path: Path, good, name: str, **fields) -> Path:
    """The good file with the central-directory ``fields`` of member ``name`` changed (what a reader trusts)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in good.items():
            archive.writestr(member, data)
        info = archive.getinfo(name)
        for field, value in fields.items():
            setattr(info, field, value)
    return path


def symlink_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


# ------------------------------------------------------------ what every refusal must satisfy
def outside_snapshot(folder: Path) -> tuple:
    """What a hostile member could write outside ``folder``: the entries of its parent (where '..' leads), and
    the files named after the marker the hostile members carry in the places their names point to."""
    places = (folder.parent, folder.parent.parent, Path.cwd(), Path("/tmp"))
    marked = [str(place / name) for place in places if place.is_dir() for name in os.listdir(place)
              if MARKER in name]
    return sorted(os.listdir(folder.parent)), marked


def assert_refused(load: Callable, path: Path, *problems: str, error: type = ValueError) -> str:
    """``load(path)`` raises ``error`` naming ``path`` and matching each of ``problems``, within SECONDS and
    BYTES, and writes nothing outside ``path``'s folder. Returns the message."""
    before = outside_snapshot(path.parent)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(error) as caught:
            load(path)
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    message = str(caught.value)
    assert str(path) in message, message
    for problem in problems:
        assert re.search(problem, message), f"{problem!r} not in: {message}"
    assert elapsed < SECONDS, f"{elapsed:.2f} s: {message}"
    assert peak < BYTES, f"{peak / 2**20:.0f} MB: {message}"
    assert outside_snapshot(path.parent) == before and not before[1]
    assert not any(MARKER in name for name in os.listdir(path.parent) if name != path.name)
    return message


# ------------------------------------------------------------ the model-file corpus
@dataclass
class Case:
    id: str
    build: Callable  # (good members, tmp_path, bomb path) -> the hostile file
    problems: tuple
    load: str = "model"


def _traversal(name):
    return lambda good, tmp, _: write_zip(tmp / "model.keras", [*good.items(), (name, b"{}")])


def _huge_units(units):
    def edit(config):
        config["config"]["layers"][0]["config"]["units"] = units
    return lambda good, tmp, _: write_zip(tmp / "model.keras", replaced(good, config__json=with_config(good, edit)))


def _json_text(text: bytes, member="config.json"):
    return lambda good, tmp, _: write_zip(tmp / "model.keras", replaced(good, **{member.replace(".", "__"): text}))


def _weights(data: bytes):
    return lambda good, tmp, _: write_zip(tmp / "model.keras", replaced(good, model__weights__npz=data))


def _config_value(text: str):
    """config.json with the first layer's units written as ``text`` (a JSON token)."""
    def build(good, tmp, _):
        config = good["config.json"].decode().replace('"units": 4', f'"units": {text}', 1)
        return write_zip(tmp / "model.keras", replaced(good, config__json=config.encode()))
    return build


def _flipped_crc(good, tmp, _):
    data = bytearray(write_zip(tmp / "ok.keras", good.items()).read_bytes())
    data[data.index(b"model.weights.npz") + 40] ^= 0xFF  # inside its compressed data
    return _bytes(tmp, bytes(data))


MODEL_CASES = [
    Case("member named ../", _traversal(f"../{MARKER}.json"), ("outside the archive", re.escape(f"../{MARKER}"))),
    Case("member with an absolute name", _traversal(f"/tmp/{MARKER}.json"), ("outside the archive",)),
    Case("member named ..\\ (Windows)", _traversal(f"..\\{MARKER}.json"), ("outside the archive",)),
    Case("member in a folder", _traversal(f"sub/../../{MARKER}.json"), ("outside the archive",)),
    Case("symlink member", lambda good, tmp, _: write_zip(tmp / "model.keras", [
        *good.items(), (symlink_member(f"{MARKER}.json"), b"/etc/passwd")]), ("symbolic link",)),
    Case("symlink in place of config.json", lambda good, tmp, _: write_zip(tmp / "model.keras", [
        (symlink_member(name), b"/etc/passwd") if name == "config.json" else (name, data)
        for name, data in good.items()]), ("symbolic link", "config.json")),
    Case("zip bomb: 256 MB of zeros in 256 kB", lambda good, tmp, bomb: bomb, ("zip bomb", "model.weights.npz")),
    Case("declared size of 1 TB", lambda good, tmp, _: forged(tmp / "model.keras", good, "config.json",
                                                             file_size=2**40), ("config.json", "declares")),
    Case("stored member longer than the file", lambda good, tmp, _: forged(
        tmp / "model.keras", good, "optimizer.npz", compress_size=2**33, file_size=2**33, compress_type=0),
        ("optimizer.npz", "past the end of the file")),
    Case("unknown compression method", lambda good, tmp, _: forged(tmp / "model.keras", good, "config.json",
                                                                   compress_type=99), ("compression method 99",)),
    Case("encrypted member", lambda good, tmp, _: forged(tmp / "model.keras", good, "config.json", flag_bits=1),
         ("encrypted",)),
    Case("same member twice", lambda good, tmp, _: write_zip(tmp / "model.keras", [
        *good.items(), ("config.json", good["config.json"])]), ("config.json", "twice")),
    Case("thousands of members", lambda good, tmp, _: write_zip(tmp / "model.keras", [
        *good.items(), *((f"extra{i}.json", b"{}") for i in range(2000))]), ("2,004 members",)),
    Case("checksum fails", _flipped_crc, ("model.weights.npz|damaged", "checksum|CRC|damaged")),
    Case("Dense(10**12)", _huge_units(10**12), ("1000000000000", "file's weights hold", "before allocating")),
    Case("Dense(2 * 10**7): 240 MB", _huge_units(2 * 10**7), ("20000000", "file's weights hold")),
    Case("Dense(-3)", _huge_units(-3), ("units=-3",)),
    Case("a shape whose product overflows int64", _huge_units(2**62), (str(2**62), "file's weights hold")),
    Case("units as text", _huge_units("4; import os"), ("units=",)),
    Case("unknown layer class", lambda good, tmp, _: write_zip(tmp / "model.keras", replaced(
        good, config__json=good["config.json"].replace(b'"Dense"', b'"os.system"', 1))), ("os.system",)),
    Case("object array in the weights", _weights(npz(**{"0000": np.array([{"a": 1}, None], dtype=object)})),
         ("model.weights.npz", "object", "pickle")),
    Case("structured dtype", _weights(npz(**{"0000": np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")])})),
         ("model.weights.npz", "numeric", "0000")),
    Case("text array", _weights(npz(**{"0000": np.array(["a", "b"])})), ("model.weights.npz", "<U1|numeric")),
    Case("npy header declaring 800 MB", _weights(raw_npz([("0000.npy", npy_header((10**8,)) + bytes(64), 0)])),
         ("model.weights.npz", "0000", "declares", "100000000")),
    Case("npy header declaring 10**15 values", _weights(raw_npz([("0000.npy", npy_header((10**15,)), 0)])),
         ("model.weights.npz", "declares")),
    Case("inflating array inside the npz", lambda good, tmp, _: _weights(inner_bomb())(good, tmp, _),
         ("model.weights.npz", "compressed")),
    Case("weights member is not an npz", _weights(b"not a zip at all"), ("model.weights.npz", "damaged")),
    Case("weights of the wrong shape", _weights(npz(**{"0000": np.zeros((4, 3), "float32"), "0001": np.zeros(4),
                                                      "0002": np.zeros((4, 1)), "0003": np.zeros(1)})),
         ("dense/kernel", r"\(3, 4\)", r"\(4, 3\)")),
    Case("a weight missing", _weights(npz(**{"0000": np.zeros((3, 4), "float32")})),
         ("dense/bias", "file's weights hold")),
    Case("config nested 100,000 deep", _json_text(b"[" * 100_000 + b"]" * 100_000), ("config.json", "nested")),
    Case("config nested 500 deep", _json_text(b'{"a":' * 500 + b"1" + b"}" * 500), ("config.json", "nested")),
    Case("config not UTF-8", _json_text('{"class_name": "S\xe9quential"}'.encode("latin-1")),
         ("config.json", "UTF-8")),
    Case("config not JSON", _json_text(b"class_name = 'Sequential'"), ("config.json", "not valid JSON")),
    Case("config a JSON list", _json_text(b"[1, 2]"), ("config.json", "JSON object")),
    Case("units: NaN", _config_value("NaN"), ("config.json", "NaN")),
    Case("units: Infinity", _config_value("-Infinity"), ("config.json", "Infinity")),
    Case("units: 1e999", _config_value("1e999"), ("config.json", "1e999")),
    Case("units: a 5000-digit number", _config_value("9" * 5000), ("config.json", "5000 digits")),
    Case("metadata declaring a 5000-digit version", _json_text(
        b'{"format": "deepfin.model", "format_version": ' + b"9" * 5000 + b"}", "metadata.json"),
        ("metadata.json", "5000 digits")),
    Case("wrong format tag", _json_text(b'{"format": "keras.model", "format_version": 1}', "metadata.json"),
         ("keras.model", "deepfin.model")),
    Case("newer format", _json_text(b'{"format": "deepfin.model", "format_version": 7}', "metadata.json"),
         ("newer deepfin",)),
    Case("weights file given to load_model", lambda good, tmp, _: _weights_file(tmp), ("weights", "load_weights")),
    Case("config.json missing", lambda good, tmp, _: write_zip(tmp / "model.keras", [
        (n, d) for n, d in good.items() if n != "config.json"]), ("config.json is missing",)),
    Case("empty file", lambda good, tmp, _: _bytes(tmp, b""), ("empty",)),
    Case("random bytes", lambda good, tmp, _: _bytes(tmp, np.random.default_rng(0).bytes(5000)), ("not a zip",)),
    Case("an HDF5 file", lambda good, tmp, _: _bytes(tmp, b"\x89HDF\r\n\x1a\n" + bytes(500)), ("HDF5",)),
    Case("a folder", lambda good, tmp, _: _folder(tmp), ("folder|directory",)),
    Case("optimizer state of another model", lambda good, tmp, _: write_zip(tmp / "model.keras", replaced(
        good, optimizer__npz=npz(iterations=np.array(3), variables=np.array([7, 9])))), ("optimizer state",)),
    Case("load_weights: member named ../", _traversal(f"../{MARKER}.npz"), ("outside the archive",), "weights"),
    Case("load_weights: object array", _weights(npz(**{"0000": np.array([None], dtype=object)})), ("object",),
         "weights"),
    Case("load_backup: zip bomb", lambda good, tmp, bomb: bomb, ("zip bomb",), "backup"),
    Case("load_backup: a model file", lambda good, tmp, _: write_zip(tmp / "model.keras", good.items()),
         ("deepfin.model", "deepfin.backup"), "backup"),
]


def _bytes(tmp: Path, data: bytes) -> Path:
    (tmp / "model.keras").write_bytes(data)
    return tmp / "model.keras"


def _folder(tmp: Path) -> Path:
    (tmp / "model.keras").mkdir()
    return tmp / "model.keras"


def _weights_file(tmp: Path) -> Path:
    small_model().save_weights(tmp / "model.weights.keras")
    return tmp / "model.weights.keras"


@pytest.mark.parametrize("case", MODEL_CASES, ids=[case.id for case in MODEL_CASES])
def test_hostile_model_files_are_refused_naming_the_file_and_the_problem(case, good, bomb, tmp_path):
    path = case.build(good, tmp_path, bomb)
    model = small_model()  # for load_weights and load_backup, built outside the measured call
    load = {"model": load_model, "weights": lambda p: load_weights(model, p),
            "backup": lambda p: load_backup(model, p)}[case.load]
    assert_refused(load, path, *case.problems, error=IsADirectoryError if case.id == "a folder" else ValueError)


def test_the_good_file_loads(good, tmp_path):
    """The corpus starts from a file that loads: its corruptions are what is refused."""
    model = load_model(write_zip(tmp_path / "model.keras", good.items()))
    assert model.optimizer.iterations == 1


def test_every_truncation_of_a_model_file_is_refused(good, tmp_path):
    path = write_zip(tmp_path / "model.keras", good.items())
    start = time.perf_counter()
    for end in range(path.stat().st_size - 1, -1, -1):
        os.truncate(path, end)
        with pytest.raises(ValueError, match=re.escape(str(path))):
            load_model(path)
    assert time.perf_counter() - start < 5 * SECONDS


@settings(max_examples=150, deadline=SECONDS * 1000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_loads_the_same_model_or_is_refused_naming_the_file(good, tmp_path, data):
    """Bytes flipped, cut out or inserted anywhere: the file loads (a byte the reader never uses) or is refused
    with a ValueError that names it; never another exception, never a wrong model in silence."""
    whole = bytearray(write_zip(tmp_path / "whole.keras", good.items()).read_bytes())
    at = data.draw(st.integers(0, len(whole) - 1), label="at")
    kind = data.draw(st.sampled_from(["flip", "cut", "insert", "zero-run"]), label="kind")
    if kind == "flip":
        whole[at] ^= data.draw(st.integers(1, 255), label="xor")
    elif kind == "cut":
        del whole[at:at + data.draw(st.integers(1, 64), label="length")]
    elif kind == "insert":
        whole[at:at] = data.draw(st.binary(min_size=1, max_size=16), label="bytes")
    else:
        whole[at:at + 16] = bytes(len(whole[at:at + 16]))
    path = tmp_path / "model.keras"
    path.write_bytes(bytes(whole))
    reference = load_model(tmp_path / "whole.keras")
    try:
        model = load_model(path)
    except ValueError as error:
        assert str(path) in str(error)
        return
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------ the price-file corpus
HEADER = "date,ticker,price\n"


def long_rows(n_days=30, tickers=("AAA", "BBB")) -> list[str]:
    rows = []
    for day in range(n_days):
        for k, ticker in enumerate(tickers):
            rows.append(f"2015-{1 + day // 28:02d}-{1 + day % 28:02d},{ticker},{100 + k + day * 0.5}\n")
    return rows


def price_text(edit=lambda rows: rows) -> str:
    return HEADER + "".join(edit(long_rows()))


def run_data(path: Path):
    """What ``deepfin run --data PATH`` does first: load the file and check its prices."""
    return workflow.plan(RunConfig(data=str(path)))


def _set(row: int, text: str):
    def edit(rows):
        rows[row] = text
        return rows
    return edit


PRICE_CASES = [
    ("ragged row", price_text(_set(5, "2015-01-03,BBB,101,7,x\n")), ("line 7 has 5 fields",)),
    ("short row", price_text(_set(5, "2015-01-03\n")), ("empty name", "data row 6")),
    ("repeated header line", price_text(_set(9, HEADER)), ("repeated header",)),
    ("text in the price column", price_text(_set(9, "2015-01-05,BBB,twelve\n")), ("'twelve'", "data row 10")),
    ("decimal comma in a price", price_text(_set(9, '2015-01-05,BBB,"101,5"\n')), ("'101,5'", "decimal")),
    ("empty file", "", ("empty|no columns|No columns",)),
    ("header only", HEADER, ("no rows|no price|holds no",)),
    ("BOM and header only", "\ufeff" + HEADER, ("no rows|no price|holds no",)),
    ("non-UTF-8 bytes", (HEADER + "2015-01-02,S\xe9bastien,100\n").encode("latin-1"), ("UTF-8", "line 2")),
    # pandas 2.2.2 (the floor) reads the NUL bytes' rows as repeats of one row; later pandas stops at the NUL
    ("NUL bytes", HEADER + "2015-01-02,AAA,1\x0000\n" * 3, ("NUL|null|\\\\x00|line 2|repeated",)),
    ("binary garbage", np.random.default_rng(1).bytes(3000), ("CSV|UTF-8",)),
    ("dates that do not parse", price_text(_set(4, "2015-13-45,AAA,100\n")), ("2015-13-45", "date")),
    ("a date of year 0001", price_text(_set(4, "0001-01-01,AAA,100\n")), ("0001-01-01",)),
    ("an empty date", price_text(_set(4, ",AAA,100\n")), ("empty date", "data row 5")),
    ("duplicate (date, ticker) rows", price_text(lambda rows: [*rows, rows[3]]), ("repeated", "2015-01-02 BBB")),
    ("a negative price", price_text(_set(6, "2015-01-04,AAA,-5\n")), ("zero or negative", "AAA", "2015-01-04")),
    ("a zero price", price_text(_set(7, "2015-01-04,BBB,0\n")), ("zero or negative", "BBB", "2015-01-04")),
    ("an infinite price", price_text(_set(7, "2015-01-04,BBB,inf\n")), ("infinite", "data row 8")),
    # pandas 2.2.2 (the floor) keeps 1e999 as text; later pandas reads it as inf
    ("a price of 1e999", price_text(_set(7, "2015-01-04,BBB,1e999\n")), ("infinite|1e999", "data row 8")),
    ("an unterminated quote", price_text(_set(4, '2015-01-03,"AAA,100\n')), ("CSV|quote|line",)),
    ("wide: text in a price column", "date,AAA,BBB\n2015-01-02,1,2\n2015-01-05,x1,3\n", ("'x1'", "data row 2")),
    ("wide: duplicate dates", "date,AAA,BBB\n2015-01-02,1,2\n2015-01-02,1,3\n", ("duplicate dates", "2015-01-02")),
    ("wide: unsorted dates", "date,AAA,BBB\n2015-01-05,1,2\n2015-01-02,1,3\n", ("not sorted",)),
    ("returns of -100%", "date,ticker,ret\n2015-01-02,AAA,0.01\n2015-01-05,AAA,-1.0\n", ("-100%",)),
]


@pytest.mark.parametrize("text, problems", [case[1:] for case in PRICE_CASES], ids=[c[0] for c in PRICE_CASES])
def test_hostile_price_files_are_refused_naming_the_file_and_the_problem(tmp_path, text, problems):
    path = tmp_path / "prices.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    assert_refused(run_data, path, *problems)


@pytest.mark.parametrize("suffix, data, problems", [
    (".parquet", b"PAR1" + bytes(100) + b"PAR1", ("not a readable Parquet file",)),
    (".h5", b"\x89HDF\r\n\x1a\n" + bytes(300), ("not a readable HDF5 file",)),
    (".h5", b"plain text", ("not a readable HDF5 file",)),
])
def test_damaged_parquet_and_hdf5_files_are_refused(tmp_path, suffix, data, problems):
    path = tmp_path / f"prices{suffix}"
    path.write_bytes(data)
    assert_refused(run_data, path, *problems)


@pytest.mark.parametrize("text, problems", [
    ("date,ticker\n2015-01-31,AAA\n2015-02-30,BBB\n", ("2015-02-30",)),
    ("date,ticker\n2015-01-31,AAA\n2015-02-27,BBB,CCC\n", ("line 3 has 3 fields",)),
    ("ticker,start,end\nAAA,2015-01-01,2014-01-01\n", ("ends", "before it starts")),
    ("\ufeffdate,ticker\n", ("no rows|no member",)),
])
def test_hostile_universe_files_are_refused(tmp_path, text, problems):
    path = tmp_path / "universe.csv"
    path.write_text(text, encoding="utf-8")
    assert_refused(load_universe, path, *problems)


@pytest.mark.parametrize("text, problems", [
    ("ticker,dlret\nAAA,-0.3\nBBB,lost\n", ("'lost'", "data row 2")),
    ("ticker,dlret\nAAA,-3\n", ("below -100%",)),
    ("ticker,dlret\nAAA,inf\n", ("infinite|not finite",)),
])
def test_hostile_delistings_files_are_refused(tmp_path, text, problems):
    path = tmp_path / "delistings.csv"
    path.write_text(text, encoding="utf-8")
    assert_refused(load_delistings, path, *problems)


def test_a_byte_order_mark_is_read_as_nothing(tmp_path):
    """A BOM (Excel writes one) is not part of the first column's name: the file reads as without it."""
    (tmp_path / "plain.csv").write_text(price_text(), encoding="utf-8")
    (tmp_path / "bom.csv").write_text("\ufeff" + price_text(), encoding="utf-8")
    expected = load_panel(tmp_path / "plain.csv").prices
    assert load_panel(tmp_path / "bom.csv").prices.equals(expected)


# ------------------------------------------------------------ crashes lose nothing
SAVER = textwrap.dedent("""
    # A zygote: builds the model once, then for each line "first log" read forks a saver, which re-saves the
    # model (its weights set to version v = first, first + 1, ...) in a loop, logging "start v" before and
    # "done v" after each save, and prints the saver's process id.
    import os, signal, sys
    import numpy as np
    from deepfin.layers import Dense
    from deepfin.models import Sequential

    path = sys.argv[1]
    model = Sequential([Dense(400, input_shape=(400,)), Dense(400), Dense(1)])
    model.build((None, 400))
    shapes = [w.shape for w in model.weights]

    def version(v):
        model.set_weights([np.float32(v) + np.random.default_rng(v).random(shape, "float32") for shape in shapes])

    version(0)
    model.save(path)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed savers are reaped at once
    print("ready", flush=True)
    for line in sys.stdin:
        first, log = line.split()
        pid = os.fork()
        if pid == 0:
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            v = int(first)
            while True:
                version(v)
                os.write(out, f"start {v}\\n".encode())
                model.save(path)
                os.write(out, f"done {v}\\n".encode())
                v += 1
        print(pid, flush=True)
""")


def kill_saves(folder: Path, logs: Path, kills: int, seed: int) -> dict:
    """Kill a saver ``kills`` times at random moments; after each kill the file under the final name is whole,
    loads, and holds one of the versions saved, and no other file takes that name.

    Returns counts: the kills that fell inside a save (a "start" without its "done") and the temporary files
    the killed writes left beside the final name."""
    path = folder / "model.keras"
    rng = np.random.default_rng(seed)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    zygote = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    inside, saved, first = 0, {0}, 1
    try:
        assert zygote.stdout.readline().strip() == "ready"
        for kill in range(kills):
            log = logs / f"saver-{kill}.log"
            zygote.stdin.write(f"{first} {log}\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            time.sleep(rng.uniform(0.01, 0.3))  # a save takes about 0.1 s, in a loop: most kills land inside one
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
            lines = log.read_text().split("\n") if log.exists() else []
            started = [int(line.split()[1]) for line in lines if line.startswith("start")]
            done = {int(line.split()[1]) for line in lines if line.startswith("done")}
            saved |= done
            inside += bool(started) and started[-1] not in done
            weights = load_model(path).get_weights()  # whole and loadable ...
            v = int(weights[0].min())
            assert v in saved or (started and v == started[-1]), (v, started, done)  # ... a version saved
            np.testing.assert_array_equal(
                weights[0], np.float32(v) + np.random.default_rng(v).random(weights[0].shape, "float32"))
            saved.add(v)
            first = max([first, *started]) + 1
            names = os.listdir(folder)
            assert [name for name in names if not name.endswith(".tmp")] == ["model.keras"], names
    finally:
        zygote.kill()
        zygote.wait()
    temporary = [name for name in os.listdir(folder) if name.endswith(".tmp")]
    assert all(name.startswith(".model.keras.") for name in temporary), temporary
    return {"kills": kills, "inside a save": inside, "temporary files left": len(temporary)}


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.002)
    raise AssertionError(f"saver {pid} still runs {timeout} s after SIGKILL")


def test_killing_a_save_ten_times_leaves_the_previous_file_whole(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "folder").mkdir()
    result = kill_saves(tmp_path / "folder", tmp_path / "logs", kills=10, seed=0)
    assert result["inside a save"] >= 5, result


@pytest.mark.slow
def test_killing_a_save_a_hundred_times_leaves_the_previous_file_whole(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "folder").mkdir()
    result = kill_saves(tmp_path / "folder", tmp_path / "logs", kills=100, seed=1)
    print(result)
    assert result["inside a save"] >= 80, result


def test_end_record_is_read_where_zipfile_reads_it(tmp_path):
    """deepfin reads a zip's declared member count and list size itself (no private zipfile API): the same
    figures as zipfile's own reader, with and without an archive comment, and none for a file with no end
    record."""
    import zipfile

    from deepfin import _archive

    for members, comment in ((1, b""), (7, b"a comment PK\x05 with a false start"), (3, b"x" * 70000)):
        path = tmp_path / f"a{members}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for i in range(members):
                archive.writestr(f"m{i}.txt", "data" * i)
            archive.comment = comment[:65535]
        with open(path, "rb") as stream:
            ours = _archive._end_record(stream)
            theirs = zipfile._EndRecData(stream)  # the oracle, private to zipfile
        assert ours == (theirs[zipfile._ECD_ENTRIES_TOTAL], theirs[zipfile._ECD_SIZE]) and ours[0] == members
    (tmp_path / "plain.bin").write_bytes(b"not a zip at all" * 100)
    with open(tmp_path / "plain.bin", "rb") as stream:
        assert _archive._end_record(stream) is None
