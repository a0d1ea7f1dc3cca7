"""Renders tenant-written notification templates safely.

Templates are Django template strings, compiled by an engine that has no loaders, no
installed tag libraries and only the tags and filters of
apps.notifications.template_library. The context is plain data (JSON types only), so a
template can read values but never reach a model, a manager or a method with effects.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import Node
from django.template.defaulttags import ForNode
from django.utils.html import strip_tags

from apps.notifications.errors import TemplateInvalidError

MAX_SOURCE_CHARS = 20_000
MAX_LOOP_DEPTH = 2
MAX_OUTPUT_CHARS = 100_000


class _RestrictedEngine(Engine):
    default_builtins: list[str] = []


@cache
def _engine(*, autoescape: bool) -> Engine:
    return _RestrictedEngine(
        loaders=[],
        libraries={},
        builtins=["apps.notifications.template_library"],
        autoescape=autoescape,
        debug=False,
        string_if_invalid="",
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def _nodes(nodelist: Any) -> Iterator[tuple[Node, int]]:
    stack = [(node, 0) for node in nodelist]
    while stack:
        node, depth = stack.pop()
        depth = depth + 1 if isinstance(node, ForNode) else depth
        yield node, depth
        for attribute in node.child_nodelists:
            stack.extend((child, depth) for child in getattr(node, attribute, None) or [])


def _compile(source: str, *, autoescape: bool, field: str) -> Template:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateInvalidError(field=field, reason=f"longer than {MAX_SOURCE_CHARS} characters")
    try:
        template = Template(source, engine=_engine(autoescape=autoescape))
    except TemplateSyntaxError as error:
        raise TemplateInvalidError(field=field, reason=str(error)) from error
    if any(depth > MAX_LOOP_DEPTH for _, depth in _nodes(template.nodelist)):
        raise TemplateInvalidError(
            field=field, reason=f"for loops nest deeper than {MAX_LOOP_DEPTH} levels"
        )
    return template


def _is_html(channel: str) -> bool:
    return channel == "email"


def template_check(*, subject: str, body: str, channel: str) -> None:
    """Raises TemplateInvalidError when either part would not compile."""
    _compile(subject, autoescape=False, field="subject")
    _compile(body, autoescape=_is_html(channel), field="body")


def plain_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` reduced to JSON data (dates become ISO strings, UUIDs strings...)."""
    try:
        return json.loads(json.dumps(dict(context), cls=DjangoJSONEncoder))
    except (TypeError, ValueError) as error:
        raise TemplateInvalidError(field="context", reason=str(error)) from error


def render(*, subject: str, body: str, channel: str, context: Mapping[str, Any]) -> Rendered:
    """Render a template's subject (one line of text) and body (HTML for email, text
    elsewhere) with ``context``, which must already be plain data."""
    autoescape = _is_html(channel)
    subject_text = _compile(subject, autoescape=False, field="subject").render(
        Context(dict(context), autoescape=False)
    )
    body_text = _compile(body, autoescape=autoescape, field="body").render(
        Context(dict(context), autoescape=autoescape)
    )
    # Mail headers cannot carry line breaks; a subject is one line.
    subject_line = re.sub(r"\s+", " ", subject_text).strip()[:255]
    return Rendered(subject=subject_line, body=body_text[:MAX_OUTPUT_CHARS])


def html_to_text(body: str) -> str:
    """The plain-text part of an HTML email."""
    text = re.sub(r"<br\s*/?>|</p>|</div>|</li>|</h\d>", "\n", body, flags=re.IGNORECASE)
    text = html.unescape(strip_tags(text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
