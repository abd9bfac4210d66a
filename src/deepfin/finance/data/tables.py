"""Reading the tables users bring (prices, returns, index membership, delistings), with errors that say what to change.

A file that cannot be read raises an error that names the file, the line or the value and what to change, never
a parser's traceback. ``read_table`` reads CSV (its delimiter sniffed from the first lines unless ``sep`` is
given), Parquet or an HDF5 store such as the one Jansen (2020, ch. 17) reads its prices from (``assets.h5``,
key ``quandl/wiki/prices``). ``find_column`` picks a column by the spellings vendors use, case-insensitively.
``parse_dates`` reads a date column: ISO dates, CRSP's integer ``YYYYMMDD``, or day- or month-first dates
when only one reading fits them all (both fitting is ambiguous and refused; ``date_format`` settles it).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

SEED_HDF_KEY = "quandl/wiki/prices"  # Jansen (2020, ch. 17): pd.read_hdf('assets.h5', 'quandl/wiki/prices')
DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024


def read_table(path: str | os.PathLike, *, sep: str | None = None, decimal: str = ".",
               hdf_key: str = SEED_HDF_KEY, what: str = "price") -> pd.DataFrame:
    """Read a CSV, Parquet or HDF5 file as a DataFrame.

    The file type is taken from the suffix: ``.csv`` or ``.txt``, ``.parquet`` or ``.pq``, ``.h5``, ``.hdf5``
    or ``.hdf``. An HDF5 store's MultiIndex becomes columns.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    sep : str or None, default None
        The CSV delimiter; None sniffs it from the first lines (``sniff_delimiter``).
    decimal : str, default "."
        The CSV decimal mark.
    hdf_key : str, default "quandl/wiki/prices"
        The key of the table in an HDF5 store (``SEED_HDF_KEY``, the key of Jansen (2020, ch. 17)'s store).
    what : str, default "price"
        What the file holds, for the error messages ("price", "universe", "delistings").

    Returns
    -------
    pd.DataFrame
        The table, with at least one row.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    ValueError
        For an unknown suffix, an unreadable or damaged file, a ragged CSV line, text that is not UTF-8, or a
        file without rows.
    ImportError
        When reading Parquet or HDF5 needs a package that is not installed (pyarrow, PyTables).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No {what} file at {path}.")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        frame = _read_csv(path, sep, decimal)
    elif suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except ImportError:
            raise ImportError("Reading Parquet needs pyarrow: pip install 'deepfin[parquet]'.") from None
        except Exception as error:  # pyarrow raises its own types for damaged files
            raise ValueError(f"{path} is not a readable Parquet file: {_short(error)}") from None
    elif suffix in (".h5", ".hdf5", ".hdf"):
        frame = _read_hdf(path, hdf_key)
    else:
        raise ValueError(f"Unknown {what} file type {suffix!r} for {path}: expected .csv, .parquet or .h5.")
    if len(frame) == 0:
        raise ValueError(f"{path} holds no rows, only the columns {[_short(c, 40) for c in frame.columns][:10]}.")
    return frame


def _read_hdf(path: Path, key: str) -> pd.DataFrame:
    try:
        frame = pd.read_hdf(path, key)
    except ImportError:
        raise ImportError("Reading HDF5 needs PyTables: pip install 'deepfin[hdf5]'.") from None
    except KeyError:
        raise ValueError(f"{path} has no table under the key {key!r} (the store of Jansen (2020, ch. 17) keeps its "
                         f"prices under {SEED_HDF_KEY!r}).") from None
    except Exception as error:  # PyTables raises its own types for damaged files
        raise ValueError(f"{path} is not a readable HDF5 file: {_short(error)}") from None
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{path} holds a {type(frame).__name__} under the key {key!r}, not a table.")
    return frame.reset_index() if isinstance(frame.index, pd.MultiIndex) else frame


def _read_csv(path: Path, sep: str | None, decimal: str) -> pd.DataFrame:
    if sep is None:
        sep = sniff_delimiter(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # a long first row would become an index
            frame = pd.read_csv(path, sep=sep, decimal=decimal, skipinitialspace=True, index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        ragged = _first_ragged_line(path, sep)
        if ragged is not None:
            line, saw, expected = ragged
            raise ValueError(f"{path}: line {line} has {saw} fields where the header has {expected}. Fix that line, "
                             f"or set sep if the file is not {_delimiter_name(sep)}-separated.") from None
        raise ValueError(f"{path} could not be read as CSV: {_short(error)}") from None
    except UnicodeDecodeError:
        line, byte = _first_undecodable(path)
        raise ValueError(f"{path} is not UTF-8 text: line {line} holds the byte {byte!r}. Save the file as UTF-8 "
                         "(Excel: 'CSV UTF-8').") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: no header line, no rows.") from None
    if frame.shape[1] == 1 and any(d in str(frame.columns[0]) for d in DELIMITERS if d != sep):
        other = next(d for d in DELIMITERS if d != sep and d in str(frame.columns[0]))
        raise ValueError(f"{path} has one column, {_short(frame.columns[0])!r}: it looks "
                         f"{_delimiter_name(other)}-separated. Set sep = {other!r}.")
    return frame


def _first_undecodable(path: Path) -> tuple[int, bytes]:
    """(line number, byte) of the first byte of ``path`` that is not UTF-8, read in blocks."""
    decoder, line = codecs.getincrementaldecoder("utf-8")(), 1
    with path.open("rb") as stream:
        while block := stream.read(2**20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                return line + block[:error.start].count(b"\n"), block[error.start:error.start + 1]
            line += block.count(b"\n")
    return line, b""


def _first_ragged_line(path: Path, sep: str) -> tuple[int, int, int] | None:
    """(line number, fields, header fields) of the first line whose field count differs from the header's."""
    with path.open("r", encoding="utf-8", errors="replace", newline="") as stream:
        rows = csv.reader(stream, delimiter=sep)
        expected = len(next(rows, []))
        for number, row in enumerate(rows, start=2):
            if row and len(row) != expected:
                return number, len(row), expected
    return None


def sniff_delimiter(path: Path) -> str:
    """Guess the delimiter of a CSV file from its first lines.

    Parameters
    ----------
    path : Path
        The CSV file, read as UTF-8 (undecodable bytes replaced).

    Returns
    -------
    str
        One of ``,`` ``;`` tab ``|``; ``,`` when the first lines do not say.
    """
    with path.open("r", encoding="utf-8", errors="replace", newline="") as stream:
        sample = stream.read(_SNIFF_BYTES)
    lines = sample.splitlines()
    if len(lines) > 1 and len(sample) == _SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def find_column(frame: pd.DataFrame, spellings: tuple[str, ...]) -> str | None:
    """Find the column of ``frame`` whose name is one of ``spellings``, ignoring case.

    Parameters
    ----------
    frame : pd.DataFrame
        The table.
    spellings : tuple of str
        Lower-case names, in order of preference.

    Returns
    -------
    str or None
        The column (as ``frame`` spells it) that matches the first spelling found, or None.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame(columns=["Date", "Ticker", "Adj Close"])
    >>> find_column(frame, ("adj_close", "adj close"))
    'Adj Close'
    >>> find_column(frame, ("permno",)) is None
    True
    """
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    for spelling in spellings:
        if spelling in by_name:
            return by_name[spelling]
    return None


def parse_dates(values: pd.Series, origin: str, date_format: str | None = None) -> pd.DatetimeIndex:
    """Read a column of dates: strings, datetimes or CRSP's integers YYYYMMDD.

    Without ``date_format``, ISO dates are read as such; other strings are read with the format pandas guesses
    month-first and day-first, and only when one reading fits them all (both fitting differently is ambiguous
    and refused). Time zones are dropped and times set to midnight.

    Parameters
    ----------
    values : pd.Series
        The column.
    origin : str
        Where the column comes from (file and column), for the error messages.
    date_format : str or None, default None
        A ``strftime`` format every value must match, such as ``"%d.%m.%Y"``.

    Returns
    -------
    pd.DatetimeIndex
        One date per value, at midnight, without time zone.

    Raises
    ------
    ValueError
        Naming the column and a value it could not read: an empty date, a repeated header line, a value that
        does not match ``date_format``, dates that read both month-first and day-first, or a year outside
        1800-2199.

    Examples
    --------
    >>> import pandas as pd
    >>> [str(d.date()) for d in parse_dates(pd.Series([20200131, 20200228]), "the dates")]
    ['2020-01-31', '2020-02-28']
    >>> [str(d.date()) for d in parse_dates(pd.Series(["31.01.2020", "28.02.2020"]), "the dates")]
    ['2020-01-31', '2020-02-28']
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.DatetimeIndex(values).normalize()
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise ValueError(f"{origin} has an empty date in data row {row + 1}; every row needs a date.")
    header = values.astype(str).str.strip().str.lower() == str(values.name).strip().lower()
    if header.any():
        row = int(np.flatnonzero(header.to_numpy())[0])
        raise ValueError(f"{origin} holds its own name in data row {row + 1}: it looks like a repeated header line; "
                         "remove it.")
    if _whole_numbers(values) and values.between(10_000_101, 99_991_231).all():  # CRSP's dates, as read
        values, date_format = values.astype(np.int64).astype(str), date_format or "%Y%m%d"
    text = values.astype(str).str.strip()
    unique = pd.Index(text.unique())
    if date_format is not None:
        parsed = _try_format(unique, date_format)
        if parsed is None:
            raise ValueError(f"{origin}: the dates do not match date_format={date_format!r} (for instance "
                             f"{_short(_first_mismatch(unique, date_format))!r}).")
    else:
        parsed = _infer(unique, origin)
    _check_years(parsed, unique, origin)
    return pd.DatetimeIndex(parsed.take(unique.get_indexer(text))).normalize()


def _check_years(parsed: pd.DatetimeIndex, values: pd.Index, origin: str) -> None:
    """Refuse a date outside 1800-2199 (a typo such as 0015-01-02, or a number read as a date), naming it."""
    years = np.asarray(parsed.year)
    wrong = (years < 1800) | (years > 2199)
    if wrong.any():
        raise ValueError(f"{origin}: {_short(values[int(np.flatnonzero(wrong)[0])])!r} is not a market date (its "
                         "year is outside 1800-2199).")


def _infer(unique: pd.Index, origin: str) -> pd.DatetimeIndex:
    iso = _try_format(unique, "ISO8601")
    if iso is not None:
        return iso
    readings, guesses = {}, []
    for dayfirst in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Parsing dates in %Y-%m-%d format when dayfirst=True"
            guessed = pd.tseries.api.guess_datetime_format(unique[0], dayfirst=dayfirst)
        guesses += [guessed] if guessed else []
        parsed = _try_format(unique, guessed) if guessed else None
        if parsed is not None:
            readings[guessed] = parsed
    distinct = list(readings.items())
    if len(distinct) == 2 and distinct[0][1].equals(distinct[1][1]):
        distinct = distinct[:1]
    if len(distinct) == 1:
        return distinct[0][1]
    if len(distinct) == 2:
        (first, _), (second, _) = distinct
        raise ValueError(f"{origin}: dates such as {unique[0]!r} read both as {first!r} and as {second!r}. Set "
                         f"date_format to the one the file uses (for instance date_format = {second!r}).")
    raise ValueError(f"{origin}: could not read {_short(_least_wrong(unique, guesses))!r} as a date. Give ISO dates "
                     "(2020-01-31) or set date_format (for instance date_format = '%d.%m.%Y').")


def _least_wrong(unique: pd.Index, formats) -> str:
    """The first value that fails the format most values fit (ISO, or a guessed one): the value to fix."""
    counts = {f: int(pd.isna(pd.to_datetime(unique, format=f, errors="coerce")).sum())
              for f in ("ISO8601", *formats)}
    return _first_mismatch(unique, min(counts, key=counts.get))


def _try_format(values: pd.Index, date_format: str) -> pd.DatetimeIndex | None:
    try:
        return pd.DatetimeIndex(pd.to_datetime(values, format=date_format))
    except (ValueError, TypeError, OverflowError):
        return None


def _first_mismatch(values: pd.Index, date_format: str) -> str:
    parsed = pd.to_datetime(values, format=date_format, errors="coerce")
    return str(values[np.flatnonzero(pd.isna(parsed))[0]]) if pd.isna(parsed).any() else str(values[0])


def identifiers(values, origin: str = "the names") -> pd.Index:
    """Asset names as text, the same whatever a file stored.

    Integer-valued numbers (a PERMNO read as 10001 or 10001.0) become ``'10001'``; text is stripped.

    Parameters
    ----------
    values : array-like
        The names.
    origin : str, default "the names"
        Where they come from, for the error message.

    Returns
    -------
    pd.Index
        The names as strings.

    Raises
    ------
    ValueError
        On an empty name, naming its row.

    Examples
    --------
    >>> list(identifiers([10001.0, 10002.0]))
    ['10001', '10002']
    """
    values = pd.Series(values).reset_index(drop=True)
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(f"{origin} has an empty name in data row {int(np.flatnonzero(empty)[0]) + 1}; every row "
                         "needs one.")
    if _whole_numbers(values):
        return pd.Index(values.astype(np.int64).astype(str))
    return pd.Index(values.astype(str).str.strip())


def _whole_numbers(values: pd.Series) -> bool:
    """True for a numeric column whose values are all finite whole numbers (integers, or 10001.0)."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    numbers = values.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)))


def numeric_column(values: pd.Series, origin: str, missing_codes: tuple = ()) -> tuple[pd.Series, int]:
    """Read a column as finite floats.

    Text other than ``missing_codes``, and infinities (``'inf'``, ``1e999``), are errors naming their row and
    value; an empty cell is missing.

    Parameters
    ----------
    values : pd.Series
        The column.
    origin : str
        Where it comes from (file and column), for the error messages.
    missing_codes : tuple, default ()
        Values that mean "missing", numbers or text (CRSP's -99, 'C', ...).

    Returns
    -------
    numbers : pd.Series
        The column as floats, NaN where missing or coded missing.
    n_coded : int
        How many ``missing_codes`` were read as missing.

    Raises
    ------
    ValueError
        On text where numbers belong (with a hint for a decimal comma or a repeated header) or an infinite
        number.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float)
        coded = numbers.isin([c for c in missing_codes if not isinstance(c, str)])
        return _finite(numbers.mask(coded), values, origin), int(coded.sum())
    text = values.astype("string").str.strip()
    coded = text.isin([str(c) for c in missing_codes]).fillna(False).astype(bool)
    numbers = pd.to_numeric(text.mask(coded), errors="coerce")
    bad = numbers.isna() & text.notna() & ~coded & (text != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = str(text.iloc[row])
        hint = " It looks like a decimal comma: set decimal = ','." if re.fullmatch(r"-?\d+,\d+", value) else ""
        hint = " It looks like a repeated header line." if value.lower() == str(values.name).strip().lower() else hint
        raise ValueError(f"{origin} holds text where numbers belong: {_short(value)!r} in data row {row + 1}.{hint}")
    return _finite(numbers.astype(float), values, origin), int(coded.sum())


def _finite(numbers: pd.Series, values: pd.Series, origin: str) -> pd.Series:
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise ValueError(f"{origin} holds an infinite number, {_short(values.iloc[row])!r} in data row {row + 1}; "
                         "prices and returns are finite.")
    return numbers


def _delimiter_name(sep: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(sep, repr(sep))


def _short(value, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
