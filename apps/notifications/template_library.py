"""The only tags and filters a tenant's notification templates can use.

Tenant admins write these templates, so the engine that renders them is built on this
library alone (apps.notifications.rendering), without Django's default builtins. Left
out: anything that reads outside the context or the template (``load``, ``include``,
``extends``, ``url``, ``debug``, ``csrf_token``, ``querystring``), anything that turns
escaping off in an HTML email (``autoescape``, ``safe``, ``safeseq``), and anything whose
output size an argument chooses (``lorem``, ``center``, ``ljust``, ``rjust``,
``stringformat``, ``floatformat``). ``add`` is out too: inside nested ``with`` blocks it
doubles a string per level. Loop nesting is capped in apps.notifications.rendering.
"""

from django.template import Library, defaultfilters, defaulttags

register = Library()

ALLOWED_TAGS = (
    "comment",
    "cycle",
    "filter",
    "firstof",
    "for",
    "if",
    "ifchanged",
    "now",
    "resetcycle",
    "spaceless",
    "templatetag",
    "verbatim",
    "with",
)

BLOCKED_FILTERS = frozenset(
    {
        "add",
        "center",
        "floatformat",
        "json_script",
        "ljust",
        "pprint",
        "random",
        "rjust",
        "safe",
        "safeseq",
        "stringformat",
    }
)

for _name in ALLOWED_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]

for _name, _function in defaultfilters.register.filters.items():
    if _name not in BLOCKED_FILTERS:
        register.filters[_name] = _function
