"""What differs between the embedded engine's SQL and Spark SQL, and the types on either side.

The feature definition is written once (`distillguard.features.render`). Two differences between
the engines change numbers rather than spelling, and are handled here so that both engines
return the same values:

- A fractional literal such as `24.0` is a DECIMAL in both dialects, but DuckDB computes
  `BIGINT / DECIMAL` in DOUBLE while Spark keeps DECIMAL and rounds the quotient to six decimal
  places (7 / 24.0 is 0.291667 on Spark, 0.29166666666666669 on DuckDB). `spark_sql` makes such
  literals DOUBLE (`24.0D`), which is what DuckDB computes with.
- Result types: DuckDB's SUM of BIGINT is HUGEINT (Arrow decimal128(38, 0)), Spark's is BIGINT,
  and so on. `conform` casts a Spark result to the schema DuckDB gives for the same query, so the
  driver stages read identical column types whichever engine ran.
"""

from __future__ import annotations

import re

import pyarrow as pa

# Left untouched: single-quoted strings (with '' escapes), -- line comments, /* block comments */.
_STRING = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)
# A fractional literal not part of an identifier, a longer number or an exponent literal.
_DECIMAL_LITERAL = re.compile(r"(?<![\w.])(\d+\.\d+|\d+\.|\.\d+)(?![\w.])")


def spark_sql(text: str) -> str:
    """`text` with every fractional numeric literal outside strings and comments made a Spark DOUBLE."""
    out: list[str] = []
    last = 0
    for match in _STRING.finditer(text):
        out.append(_DECIMAL_LITERAL.sub(r"\1D", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_DECIMAL_LITERAL.sub(r"\1D", text[last:]))
    return "".join(out)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast `table` (a Spark result) column by column to `schema` (the embedded engine's).

    Columns keep their order in `schema`; a value that cannot be represented (an overflow) raises
    pyarrow's ArrowInvalid rather than being changed silently. Raises ValueError naming the
    columns when the two results do not have the same columns.
    """
    missing = [n for n in schema.names if n not in table.column_names]
    extra = [n for n in table.column_names if n not in schema.names]
    if missing or extra:
        raise ValueError(f"Spark result differs from the embedded one: missing {missing}, extra {extra}")
    columns = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=pa.schema([f.with_nullable(True) for f in schema]))
