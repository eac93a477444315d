"""``fail()``: how a template body refuses input that its JSON Schema cannot express.

``{{ fail("duplicate station name " ~ name, parameter="stations") }}`` stops the render with a
:class:`~flowtime_sim.errors.ParameterError` that blames the input, not the template:
``parameter 'stations': duplicate station name A (template line-flow 1.0.0)``. Without it a
template can only render an invalid model, which reads as a bug in the template.
"""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context

from flowtime_sim.errors import ParameterError


@pass_context
def fail(context: Any, message: object, parameter: object = None) -> str:
    """Refuse the parameters with ``message``, naming ``parameter`` when given."""
    template = context.get("template") or {}
    where = f"template {template.get('id', '?')} {template.get('version', '?')}"
    text = f"parameter {str(parameter)!r}: {message}" if parameter is not None else str(message)
    error = ParameterError(f"{text} ({where})", problems=[f"{text} ({where})"])
    error.field = None if parameter is None else str(parameter)
    raise error
