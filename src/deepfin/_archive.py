"""Reading deepfin's zip files (models, weights, backups) as if they were hostile: every member is checked
before a byte of it is inflated, and every problem becomes a ``ValueError`` that names the file.

``read_zip(path)`` returns the members as bytes, once each is known to be what deepfin writes: a flat name
(no folder, ``..`` or absolute path), a plain file (no symbolic link, folder or encryption), stored or
deflated, inside the file, and declaring a size that is not a zip bomb (a member over ``BOMB_FLOOR`` bytes
that inflates more than ``MAX_RATIO``-fold is refused; zero arrays below it may inflate as much as they
like, but such members share one ``BOMB_FLOOR`` in all). Memory is then bounded by the members' declared
sizes, which reading never exceeds. Nothing is ever extracted to disk.

``parse_json`` reads a JSON member: UTF-8, at most ``MAX_JSON_BYTES``, nested at most ``MAX_DEPTH`` deep,
no number over ``MAX_DIGITS`` digits and (unless asked) no NaN or Infinity. ``parse_npz`` reads an ``.npz``
member: each array stored (not compressed), of a numeric dtype (no objects, which only pickle reads, no
structured or text arrays), and holding exactly the bytes its header declares, checked before allocating.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import struct
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy

MAX_MEMBERS = 64
MAX_ARRAYS = 1_000_000
MAX_JSON_BYTES = 64 * 2**20
MAX_DEPTH = 100
MAX_DIGITS = 100
BOMB_FLOOR = 32 * 2**20
MAX_RATIO = 100
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error, zlib.error,
               NotImplementedError, RuntimeError, UnicodeDecodeError)


class _Refused(ValueError):
    """A problem found by a check of ours, inside a block that translates the parsers' errors."""


def read_zip(path: str) -> dict[str, bytes]:
    """The members of the zip at ``path`` by name, each checked before it is read (see the module)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"No file at {path}.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a deepfin file.")
    size = os.path.getsize(path)
    if size == 0:
        raise ValueError(f"{path} is empty (0 bytes): not a deepfin file. Was its writing interrupted?")
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x89HDF"):
        raise ValueError(
            f"{path} is an HDF5 file (written by Keras or h5py), not a deepfin file. deepfin reads what "
            "deepfin's model.save / save_weights write."
        )
    try:
        _check_directory(path)
        archive = zipfile.ZipFile(path)
    except _Refused as error:
        raise ValueError(f"{path} is not a deepfin file: {error}.") from None
    except _ZIP_ERRORS as error:
        raise ValueError(f"{path} is not a deepfin file (not a zip archive, or a damaged or truncated one): "
                         f"{_short(error)}") from None
    with archive:
        infos = archive.infolist()
        _check_members(infos, size, path)
        return {info.filename: _read_member(archive, info, path) for info in infos}


def _check_directory(path: str) -> None:
    """Refuse a zip whose end record declares more members, or a longer list of them, than deepfin writes,
    before ``zipfile`` parses the list (a million members would take it seconds)."""
    with open(path, "rb") as stream:
        end = _end_record(stream)
    if end is None:
        return  # ZipFile says what is wrong
    entries, listing = end
    if entries == _ZIP64_MEMBERS or listing == _ZIP64_SIZE:
        raise _Refused("its member list is a zip64 one, which deepfin never writes: its files hold a handful")
    if entries > MAX_MEMBERS or listing > MAX_MEMBERS * 1024:
        raise _Refused(f"it declares {entries:,} members in a list of {listing:,} bytes; deepfin's files hold a "
                       "handful")


_END_SIGNATURE, _END_SIZE, _LONGEST_COMMENT = b"PK\x05\x06", 22, 65535
_ZIP64_MEMBERS, _ZIP64_SIZE = 0xFFFF, 0xFFFFFFFF  # what the end record declares when a zip64 record holds the truth


def _end_record(stream) -> tuple[int, int] | None:
    """The number of members and the size of their list that a zip's end record declares, read where ZipFile
    reads it (the last end-of-directory signature in the file's last 22 bytes plus the longest comment), or
    None when there is no end record."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - _END_SIZE - _LONGEST_COMMENT))
    tail = stream.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END_SIZE:
        return None
    entries, listing = struct.unpack("<HI", tail[at + 10:at + 16])  # total members, then the list's bytes
    return entries, listing


def _check_members(infos: list[zipfile.ZipInfo], size: int, path: str) -> None:
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"{path} is not a deepfin file: it holds {len(infos)} members; deepfin's files hold a "
                         "handful.")
    seen, inflating = set(), 0
    for info in infos:
        name = info.filename
        if name in seen:
            raise ValueError(f"{path} is not a deepfin file: it holds the member {name!r} twice.")
        seen.add(name)
        _check_name(name, path)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ValueError(f"{path} is not a deepfin file: its member {name!r} is a symbolic link.")
        if info.is_dir():
            raise ValueError(f"{path} is not a deepfin file: its member {name!r} is a folder.")
        if info.flag_bits & 0x1:
            raise ValueError(f"{path} is not a deepfin file: its member {name!r} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"{path} is not a deepfin file: its member {name!r} uses compression method "
                             f"{info.compress_type}; deepfin writes stored or deflated members.")
        if info.header_offset + info.compress_size > size:
            raise ValueError(f"{path} is damaged or truncated: its member {name!r} ({info.compress_size:,} bytes "
                             f"from byte {info.header_offset:,}) runs past the end of the file ({size:,} bytes).")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise ValueError(f"{path} is damaged: its stored member {name!r} declares {info.file_size:,} bytes "
                             f"but occupies {info.compress_size:,}.")
        if name.endswith(".json") and info.file_size > MAX_JSON_BYTES:
            raise ValueError(f"{path} is refused: its member {name!r} declares {info.file_size:,} bytes of JSON; "
                             f"deepfin reads at most {MAX_JSON_BYTES // 2**20} MiB.")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            inflating += info.file_size
            if info.file_size > BOMB_FLOOR or inflating > BOMB_FLOOR:
                raise ValueError(
                    f"{path} is refused: its member {name!r} declares {info.file_size:,} bytes, inflated from "
                    f"{info.compress_size:,} (a ratio of {info.file_size // max(info.compress_size, 1):,}; "
                    f"deepfin reads at most {BOMB_FLOOR // 2**20} MiB inflated over {MAX_RATIO}-fold). It looks "
                    "like a zip bomb.")


def _check_name(name: str, path: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise ValueError(f"{path} is not a deepfin file: it holds a member named {name!r}, a path that points "
                         "outside the archive.")
    if len(parts) > 1 or not name:
        raise ValueError(f"{path} is not a deepfin file: it holds a member named {name!r}; deepfin's members have "
                         "plain names, in no folder.")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str) -> bytes:
    try:
        return archive.read(info)  # never more than info.file_size bytes; the CRC is checked at the end
    except _ZIP_ERRORS as error:
        raise ValueError(f"{path} is damaged: its member {info.filename!r} cannot be read (its checksum or data "
                         f"is wrong: {_short(error)}).") from None


# ------------------------------------------------------------ JSON members
def parse_json(parts: dict[str, bytes], name: str, path: str, allow_nan: bool = False) -> dict:
    """The JSON object in member ``name``, checked as the module says; a ``ValueError`` naming ``path``."""
    if name not in parts:
        raise ValueError(f"{path} is incomplete: {name} is missing.")
    try:
        text = parts[name].decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is damaged: {name} is not UTF-8 text (byte {error.start}: "
                         f"{parts[name][error.start:error.start + 1]!r}).") from None
    hooks = {"parse_int": _integer, "parse_float": _float}
    if not allow_nan:
        hooks["parse_constant"] = _constant
    try:
        value = json.loads(text, **hooks)
    except _Refused as error:
        raise ValueError(f"{path} is refused: {name} holds {error}, which no deepfin setting takes.") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is damaged: {name} is not valid JSON ({error}).") from None
    except RecursionError:
        raise ValueError(f"{path} is refused: {name} is nested deeper than JSON can be read; deepfin's "
                         f"configs are nested at most {MAX_DEPTH} levels.") from None
    if not isinstance(value, dict):
        raise ValueError(f"{path} is damaged: {name} does not hold a JSON object.")
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"{path} is refused: {name} is nested more than {MAX_DEPTH} levels deep; deepfin's "
                         "configs are not.")
    return value


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"a number of {len(text.lstrip('-'))} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{text[:20]!r} (read as {value})")
    return value


def _constant(text: str):
    raise _Refused(text)


def _depth(value) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


# ------------------------------------------------------------ array members
def parse_npz(parts: dict[str, bytes], name: str, path: str) -> dict[str, np.ndarray]:
    """The arrays in member ``name`` by key, each checked against its header before it is allocated."""
    if name not in parts:
        raise ValueError(f"{path} is incomplete: {name} is missing.")
    data = parts[name]
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as error:
        raise ValueError(f"{path} is damaged: {name} cannot be read as arrays ({_short(error)}).") from None
    with inner:
        infos = inner.infolist()
        if len(infos) > MAX_ARRAYS:
            raise ValueError(f"{path} is refused: {name} holds {len(infos):,} arrays.")
        if len({info.filename for info in infos}) < len(infos):
            raise ValueError(f"{path} is damaged: {name} holds an array name twice.")
        for info in infos:
            _check_array(inner, info, name, path, len(data))
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return {key: arrays[key] for key in arrays.files}
    except _ZIP_ERRORS as error:
        raise ValueError(f"{path} is damaged: {name} cannot be read as arrays ({_short(error)}).") from None


def _check_array(inner: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, path: str, size: int) -> None:
    key = info.filename.removesuffix(".npy")
    where = f"{path}: array {key!r} in {name}"
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        raise ValueError(f"{where} is compressed or encrypted; deepfin stores its arrays as they are.")
    if info.header_offset + info.compress_size > size or info.file_size != info.compress_size:
        raise ValueError(f"{path} is damaged: array {key!r} in {name} runs past the end of its member.")
    try:
        with inner.open(info) as stream:
            version = npy.read_magic(stream)
            reader = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
            if reader is None:
                raise ValueError(f"format version {version}; deepfin writes 1.0 and 2.0")
            shape, _, dtype = reader(stream)
            offset = stream.tell()
    except _ZIP_ERRORS as error:
        raise ValueError(f"{path} is damaged: array {key!r} in {name} has no readable .npy header "
                         f"({_short(error)}).") from None
    if dtype.hasobject:
        raise ValueError(f"{where} holds Python objects (dtype object), which only pickle can read: deepfin never "
                         "unpickles a file. This is not a file deepfin wrote.")
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biuf":
        raise ValueError(f"{where} has dtype {dtype}; deepfin's files hold numeric arrays only (booleans, "
                         "integers, floats).")
    count = math.prod(int(d) for d in shape)
    if any(int(d) < 0 for d in shape) or offset + count * dtype.itemsize != info.file_size:
        raise ValueError(f"{path} is damaged: array {key!r} in {name} declares shape {tuple(shape)} of {dtype} "
                         f"({count * dtype.itemsize:,} bytes) but holds {info.file_size - offset:,}.")


def _short(error, limit: int = 160) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= limit else text[:limit] + "..."
