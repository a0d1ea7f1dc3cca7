"""A safe evaluator for salary-component formulas such as `min(basic * 0.4, 2000) + bonus`.

Nothing is ever passed to eval/exec/compile. The text is parsed with `ast` in "eval"
mode and translated into a small closed set of nodes; anything outside the
allow-list is refused before a single value is computed:

- numbers, read as Decimal from their source text (so `0.1 + 0.2` is exactly 0.3);
- names, each the code of another salary component;
- `+ - * /`, unary minus and plus, parentheses;
- `min(a, b, ...)` and `max(a, b, ...)` with at least two arguments;
- `round(x)` and `round(x, n)` with n an integer literal in 0..10, rounding half up
  (2.5 -> 3), the same rule as `apps.hr.money.money` rather than Python's banker's rounding.

Input longer than MAX_LENGTH characters or nested deeper than MAX_DEPTH is refused too,
which bounds both parsing and evaluation time. Results are full-precision Decimals
(28 significant digits); rounding to cents happens when the payslip line is stored.

Errors are FormulaError subclasses (themselves ValueError) so the services can map
them to ApplicationErrors: FormulaSyntaxError, UnknownComponentError,
FormulaDivisionByZeroError, FormulaOverflowError and FormulaCycleError.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from functools import lru_cache
from typing import TypeAlias

MAX_LENGTH = 500
MAX_DEPTH = 20
MAX_ROUND_PLACES = 10

_CONTEXT = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow, DivisionByZero]
)


class FormulaError(ValueError):
    """Base of every formula error; `component` names the formula's owner when known."""

    component: str | None = None


class FormulaSyntaxError(FormulaError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid formula: {reason}.")
        self.reason = reason


class UnknownComponentError(FormulaError):
    def __init__(self, name: str) -> None:
        super().__init__(f"The formula refers to an unknown component {name!r}.")
        self.name = name


class FormulaDivisionByZeroError(FormulaError):
    def __init__(self) -> None:
        super().__init__("The formula divides by zero.")


class FormulaOverflowError(FormulaError):
    def __init__(self) -> None:
        super().__init__("The formula's result is out of range.")


class FormulaCycleError(FormulaError):
    def __init__(self, cycle: list[str]) -> None:
        super().__init__(f"Formulas refer to each other in a cycle: {' -> '.join(cycle)}.")
        self.cycle = cycle


# The translated tree. Frozen, so a cached tree can be shared safely.
@dataclass(frozen=True, slots=True)
class _Number:
    value: Decimal


@dataclass(frozen=True, slots=True)
class _Name:
    name: str


@dataclass(frozen=True, slots=True)
class _Binary:
    operator: str
    left: _Node
    right: _Node


@dataclass(frozen=True, slots=True)
class _Negate:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _MinMax:
    function: str
    arguments: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Round:
    operand: _Node
    places: int


_Node: TypeAlias = _Number | _Name | _Binary | _Negate | _MinMax | _Round

_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
}


class _Translator:
    def __init__(self, source: str) -> None:
        self.source = source

    def translate(self, node: ast.expr, depth: int) -> _Node:
        if depth > MAX_DEPTH:
            raise FormulaSyntaxError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            return _Number(self.number(node))
        if isinstance(node, ast.Name):
            return _Name(node.id)
        if isinstance(node, ast.BinOp):
            operator = _OPERATORS.get(type(node.op))
            if operator is None:
                raise FormulaSyntaxError(f"operator {type(node.op).__name__} is not allowed")
            # A chain like a + b + c + ... nests on the left; it is a list, not depth.
            return _Binary(
                operator, self.translate(node.left, depth), self.translate(node.right, depth + 1)
            )
        if isinstance(node, ast.UnaryOp):
            operand = self.translate(node.operand, depth + 1)
            if isinstance(node.op, ast.USub):
                return _Negate(operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            raise FormulaSyntaxError(f"operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise FormulaSyntaxError(f"{type(node).__name__} is not allowed")

    def number(self, node: ast.Constant) -> Decimal:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FormulaSyntaxError(f"only numbers are allowed, not {type(value).__name__}")
        if isinstance(value, int):
            return Decimal(value)
        # A float has already lost digits; read the literal as written instead.
        text = ast.get_source_segment(self.source, node)
        if text is None:  # pragma: no cover - positions always exist for parsed source
            raise FormulaSyntaxError("unreadable number")
        try:
            return Decimal(text)
        except InvalidOperation as error:
            raise FormulaSyntaxError(f"unreadable number {text!r}") from error

    def call(self, node: ast.Call, depth: int) -> _Node:
        if not isinstance(node.func, ast.Name) or node.func.id not in {"min", "max", "round"}:
            raise FormulaSyntaxError("only min(), max() and round() may be called")
        function = node.func.id
        if node.keywords or any(isinstance(argument, ast.Starred) for argument in node.args):
            raise FormulaSyntaxError(f"{function}() takes plain positional arguments")
        if function == "round":
            return self.round(node, depth)
        if len(node.args) < 2:
            raise FormulaSyntaxError(f"{function}() needs at least two arguments")
        arguments = tuple(self.translate(argument, depth + 1) for argument in node.args)
        return _MinMax(function, arguments)

    def round(self, node: ast.Call, depth: int) -> _Node:
        if len(node.args) not in (1, 2):
            raise FormulaSyntaxError("round() takes a value and optionally a number of places")
        places = 0
        if len(node.args) == 2:
            places_node = node.args[1]
            if not (
                isinstance(places_node, ast.Constant)
                and type(places_node.value) is int
                and 0 <= places_node.value <= MAX_ROUND_PLACES
            ):
                raise FormulaSyntaxError(
                    f"round()'s places must be a whole number from 0 to {MAX_ROUND_PLACES}"
                )
            places = places_node.value
        return _Round(self.translate(node.args[0], depth + 1), places)


@lru_cache(maxsize=2048)
def _parse(expr: str) -> _Node:
    if not isinstance(expr, str):
        raise FormulaSyntaxError("a formula must be text")
    if len(expr) > MAX_LENGTH:
        raise FormulaSyntaxError(f"longer than {MAX_LENGTH} characters")
    if not expr.strip():
        raise FormulaSyntaxError("empty formula")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        # ValueError: null bytes; RecursionError/MemoryError: parser nesting limits.
        raise FormulaSyntaxError("not a valid expression") from error
    return _Translator(expr.strip()).translate(tree.body, depth=1)


def _names(node: _Node) -> set[str]:
    match node:
        case _Name(name):
            return {name}
        case _Binary(_, left, right):
            return _names(left) | _names(right)
        case _Negate(operand) | _Round(operand, _):
            return _names(operand)
        case _MinMax(_, arguments):
            names: set[str] = set()
            for argument in arguments:
                names |= _names(argument)
            return names
        case _:
            return set()


def _evaluate(node: _Node, values: Mapping[str, Decimal]) -> Decimal:
    match node:
        case _Number(value):
            # Applying the context bounds literals such as 1e999999999 (Overflow).
            return _CONTEXT.plus(value)
        case _Name(name):
            if name not in values:
                raise UnknownComponentError(name)
            value = values[name]
            if isinstance(value, float):
                raise TypeError(f"component {name!r} is a float; pass a Decimal")
            number = Decimal(value)
            if not number.is_finite():
                raise ValueError(f"component {name!r} is not a finite number: {value!r}")
            return _CONTEXT.plus(number)
        case _Negate(operand):
            return _CONTEXT.minus(_evaluate(operand, values))
        case _Binary(operator, left, right):
            left_value = _evaluate(left, values)
            right_value = _evaluate(right, values)
            if operator == "+":
                return _CONTEXT.add(left_value, right_value)
            if operator == "-":
                return _CONTEXT.subtract(left_value, right_value)
            if operator == "*":
                return _CONTEXT.multiply(left_value, right_value)
            if right_value == 0:
                raise FormulaDivisionByZeroError()
            return _CONTEXT.divide(left_value, right_value)
        case _MinMax(function, arguments):
            results = [_evaluate(argument, values) for argument in arguments]
            return min(results) if function == "min" else max(results)
        case _Round(operand, places):
            return _evaluate(operand, values).quantize(
                Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_CONTEXT
            )
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


def validate(expr: str) -> None:
    """Raise FormulaSyntaxError unless `expr` is an allowed formula; for input validation."""
    _parse(expr)


def formula_dependencies(expr: str) -> set[str]:
    """The component names `expr` refers to (function names excluded)."""
    return _names(_parse(expr))


def evaluate(expr: str, values: Mapping[str, Decimal]) -> Decimal:
    """The value of `expr` with component names looked up in `values`, at full precision.

    Raises FormulaSyntaxError, UnknownComponentError, FormulaDivisionByZeroError or
    FormulaOverflowError.
    """
    tree = _parse(expr)
    try:
        return _evaluate(tree, values)
    except (Overflow, InvalidOperation) as error:
        # InvalidOperation: round() of a value too large for 28 significant digits.
        raise FormulaOverflowError() from error


def evaluation_order(formulas: Mapping[str, str], fixed: Collection[str]) -> list[str]:
    """The formula components in an order where each comes after everything it uses.

    `formulas` maps component codes to formulas; `fixed` are the codes whose values
    are known up front. The order is deterministic (formulas' own order, dependencies
    alphabetically). Raises FormulaCycleError with the cycle (first name repeated at
    the end, e.g. ["a", "b", "a"]), UnknownComponentError for a name that is neither a
    formula nor fixed, FormulaSyntaxError for a bad formula (with `component` set on
    each), and FormulaError when a component is both fixed and a formula.
    """
    fixed_names = set(fixed)
    both = sorted(fixed_names & formulas.keys())
    if both:
        raise FormulaError(f"Components are both fixed and formulas: {', '.join(both)}.")

    dependencies: dict[str, list[str]] = {}
    for component, expr in formulas.items():
        try:
            names = formula_dependencies(expr)
        except FormulaError as error:
            error.component = component
            raise
        for name in sorted(names):
            if name not in formulas and name not in fixed_names:
                unknown = UnknownComponentError(name)
                unknown.component = component
                raise unknown
        dependencies[component] = sorted(names & formulas.keys())

    # Iterative depth-first search, so a long chain of formulas cannot hit the
    # recursion limit.
    done: set[str] = set()
    order: list[str] = []
    for root in formulas:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        stack = [iter(dependencies[root])]
        while stack:
            for child in stack[-1]:
                if child in on_path:
                    raise FormulaCycleError([*path[path.index(child) :], child])
                if child not in done:
                    path.append(child)
                    on_path.add(child)
                    stack.append(iter(dependencies[child]))
                    break
            else:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                order.append(finished)
    return order


def evaluate_all(formulas: Mapping[str, str], fixed: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Every component's value: the fixed ones as given, the formulas in dependency order."""
    values = dict(fixed)
    for component in evaluation_order(formulas, fixed.keys()):
        try:
            values[component] = evaluate(formulas[component], values)
        except FormulaError as error:
            error.component = component
            raise
    return values
