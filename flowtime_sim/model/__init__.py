"""Model parsing and validation (SPEC §5, §5a).

``parse_model`` and ``load_model_file`` turn YAML into a validated :class:`Model` (with its
evaluation plan, :mod:`flowtime_sim.plan`); ``parse_expr``, ``format_expr``, ``references``
and ``split_references`` work on the ``expr`` language alone.
"""

from flowtime_sim.model.expr import (
    FUNCTIONS,
    format_expr,
    parse_expr,
    references,
    split_references,
)
from flowtime_sim.model.parse import load_model_document, load_model_file, parse_model
from flowtime_sim.model.types import (
    BinOp,
    BinUnit,
    Call,
    ConstNode,
    Constraint,
    DispatchSchedule,
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
    QueueNode,
    Ref,
    Rng,
    RouterNode,
    RouterRoute,
    Semantics,
    Topology,
    TopologyEdge,
    TopologyNode,
)

__all__ = [
    "FUNCTIONS",
    "BinOp",
    "BinUnit",
    "Call",
    "ConstNode",
    "Constraint",
    "DispatchSchedule",
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
    "QueueNode",
    "Ref",
    "Rng",
    "RouterNode",
    "RouterRoute",
    "Semantics",
    "Topology",
    "TopologyEdge",
    "TopologyNode",
    "format_expr",
    "load_model_document",
    "load_model_file",
    "parse_expr",
    "parse_model",
    "references",
    "split_references",
]
