"""Model parsing and validation (SPEC §5).

``parse_model`` and ``load_model_file`` turn YAML into a validated :class:`Model`;
``parse_expr``, ``format_expr`` and ``references`` work on the ``expr`` language alone.
"""

from flowtime_sim.model.expr import FUNCTIONS, format_expr, parse_expr, references
from flowtime_sim.model.parse import load_model_document, load_model_file, parse_model
from flowtime_sim.model.types import (
    BinOp,
    BinUnit,
    Call,
    ConstNode,
    Expr,
    ExprNode,
    Grid,
    ListLit,
    Model,
    Neg,
    Node,
    Num,
    Output,
    PmfNode,
    Ref,
    Rng,
)

__all__ = [
    "FUNCTIONS",
    "BinOp",
    "BinUnit",
    "Call",
    "ConstNode",
    "Expr",
    "ExprNode",
    "Grid",
    "ListLit",
    "Model",
    "Neg",
    "Node",
    "Num",
    "Output",
    "PmfNode",
    "Ref",
    "Rng",
    "format_expr",
    "load_model_document",
    "load_model_file",
    "parse_expr",
    "parse_model",
    "references",
]
