"""Record files: streaming readers and writers for CSV, JSON Lines and Parquet."""

from veil.recordfiles.formats import FORMATS, FileFormatError, format_of
from veil.recordfiles.read import RecordFileReader, RowChunk, chunk_from_rows, open_reader
from veil.recordfiles.write import RecordFileWriter, open_writer

__all__ = [
    "FORMATS",
    "FileFormatError",
    "RecordFileReader",
    "RecordFileWriter",
    "RowChunk",
    "chunk_from_rows",
    "format_of",
    "open_reader",
    "open_writer",
]
