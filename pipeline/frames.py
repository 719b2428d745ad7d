"""The extracted tables as pandas DataFrames with nullable, typed columns.

`read_tables(dir)` reads `studies`, `measures` and `uncovered` from their Parquet files
and gives every column the pandas dtype its model field implies — the same single
source (`pipeline/models.py`) the Arrow schema, the Table Schema and the data
dictionary come from: `string` for text, `Int64` for integers (a missing count is
`<NA>`, not a float NaN that turns `14` into `14.0`), `Float64` for numbers, `boolean`
for flags, and `category` with the model's closed vocabulary for enum fields (`type`,
`condition`, `bound`, `reason`), so a category that never occurs is still a level.

Through pyarrow's `types_mapper`: Arrow's own nulls become `pd.NA` directly, with no
float detour.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from .models import Measure, Study, Uncovered, _enum_of, _unwrap, arrow_schema

if TYPE_CHECKING:
    import pandas as pd


class Frames(NamedTuple):
    """The three tables of an extracted directory, as DataFrames."""

    studies: pd.DataFrame
    measures: pd.DataFrame
    uncovered: pd.DataFrame


def _nullable(arrow_type: pa.DataType) -> Any:
    import pandas as pd

    mapping = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(),
               pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return mapping[arrow_type]


def pandas_dtypes(model: type[BaseModel]) -> dict[str, Any]:
    """Column name → the pandas dtype of that field of `model` (see the module doc)."""
    import pandas as pd

    out: dict[str, Any] = {}
    schema = arrow_schema(model)
    for name, info in model.model_fields.items():
        enum = _enum_of(_unwrap(info.annotation)[0])
        out[name] = (pd.CategoricalDtype(list(enum)) if enum is not None
                     else _nullable(schema.field(name).type))
    return out


def to_frame(table: pa.Table, model: type[BaseModel]) -> pd.DataFrame:
    """An Arrow table of `model`'s rows → a DataFrame with `pandas_dtypes(model)`."""
    frame = table.to_pandas(types_mapper=_nullable)
    return frame.astype(pandas_dtypes(model))


def read_tables(directory: str | Path) -> Frames:
    """`studies`, `measures` and `uncovered` of an extracted directory as typed DataFrames.

    Reads `<name>.parquet` (a missing table raises FileNotFoundError naming it); the
    columns are in the models' order with the dtypes of `pandas_dtypes`.
    """
    directory = Path(directory)
    frames = []
    for name, model in (("studies", Study), ("measures", Measure), ("uncovered", Uncovered)):
        path = directory / f"{name}.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such table (run `evidex run` first)")
        table = pq.read_table(path, columns=list(model.model_fields))
        frames.append(to_frame(table, model))
    return Frames(*frames)
