"""FEEL's grammar (Camunda 8's dialect) for lark's LALR parser, and the tree it builds.

The parser generator is lark (maintained, pure Python, LALR(1) with a contextual lexer): the grammar is
data, not hand-written parsing code, and a parse is linear in the text. Built-in function names with
spaces (``string length``, ``date and time``, ``is defined``) are one token, matched before a plain
name: two names side by side are never valid FEEL otherwise, so this cannot take a valid expression
apart. The tree is turned into plain tuples ``(kind, position, ...)``; ``position`` is the 1-based
column of the node in the expression, for errors.
"""

from __future__ import annotations

import decimal
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import VisitError

from mom.feel.values import CONTEXT, parse_temporal

MULTI_WORD_NAMES = [
    "date and time", "days and time duration", "years and months duration", "string length", "upper case",
    "lower case", "substring before", "substring after", "starts with", "ends with", "string join",
    "list contains", "distinct values", "index of", "insert before", "round up", "round down", "round half up",
    "round half even", "get value", "get entries", "context put", "context merge", "is defined",
    "day of year", "day of week", "month of year", "week of year", "last day of month", "list replace",
    "duplicate values", "string format", "from json", "to json", "is empty", "trim", "is blank",
    "time offset", "to base64", "from base64", "put all", "round half down", "get or else", "met by",
    "overlaps before", "overlaps after", "finished by", "started by", "start position", "grouping separator",
    "decimal separator", "new item",
]
_MULTI = "|".join(sorted((n.replace(" ", r"\s+") for n in MULTI_WORD_NAMES if " " in n), key=len, reverse=True))

GRAMMAR = r"""
start: expr
unary_tests: "-"                                  -> ut_any
           | positive_tests
positive_tests: positive_test ("," positive_test)*
?positive_test: simple_test | expr                 -> ut_expr
?simple_test: ut_cmp
ut_cmp: (CMP_OP | EQ_OP) endpoint

?expr: if_expr | for_expr | quantified | function_def | disjunction
if_expr: "if" expr "then" expr "else" expr
for_expr: "for" iteration ("," iteration)* "return" expr
iteration: name "in" expr (".." expr)?
quantified: "some" iteration ("," iteration)* "satisfies" expr   -> some
          | "every" iteration ("," iteration)* "satisfies" expr  -> every
function_def: "function" "(" [name ("," name)*] ")" expr

?disjunction: conjunction | disjunction "or" conjunction       -> or_
?conjunction: comparison | conjunction "and" comparison       -> and_
?comparison: additive
           | additive CMP_OP additive                          -> compare
           | additive EQ_OP additive                           -> compare
           | additive "between" additive "and" additive        -> between
           | additive "in" in_tests                            -> in_
           | additive "instance" "of" type_name               -> instance_of
in_tests: ut_cmp | "(" ut_cmp ")" | "(" positive_test ("," positive_test)+ ")" | additive
type_name: name | "function" | GENERIC_TYPE

?additive: multiplicative
         | additive ADD_OP multiplicative              -> arith
?multiplicative: exponent
               | multiplicative MUL_OP exponent        -> arith
?exponent: unary
         | exponent POW_OP unary                       -> arith
?unary: postfix
      | "-" unary                                      -> neg
?postfix: primary
        | postfix "." name                             -> path
        | postfix "[" expr "]"                         -> filter
        | postfix "(" [arguments] ")"                  -> call
arguments: expr ("," expr)*                            -> positional
         | named_arg ("," named_arg)*                  -> named
named_arg: name ":" expr

?primary: NUMBER                                       -> number
        | STRING                                       -> string
        | "@" STRING                                   -> temporal
        | "true"                                       -> true
        | "false"                                      -> false
        | "null"                                       -> null
        | name                                         -> var
        | "(" expr ")"
        | "[" expr ("," expr)* "]"                     -> list_
        | EMPTY_LIST                                   -> empty_list
        | "{" [entry ("," entry)*] "}"                  -> context
        | interval
        | "not" "(" positive_tests ")"                 -> not_call
        | "and" "(" [arguments] ")"                    -> and_call
        | "or" "(" [arguments] ")"                     -> or_call
endpoint: additive
INTERVALS
entry: (key_name | STRING) ":" expr
key_name: name+

name: NAME | MULTI_NAME
CMP_OP: "<=" | ">=" | "<" | ">"
EQ_OP: "!=" | "="
ADD_OP: "+" | "-"
MUL_OP: "*" | "/"
POW_OP: "**"
MULTI_NAME.3: /(?:MULTI)(?![\w])/
NAME: /(?!\d)[\w$?][\w$?']*/ | /`[^`]+`/
GENERIC_TYPE.3: /(?:list|context|range|function)\s*<(?:[^<>()]|<(?:[^<>()]|<[^<>()]*>)*>)*>(?:\s*->\s*\w+)?/
EMPTY_LIST.2: /\[\s*\]/
_END_OPEN.1: /\[(?=\s*(?:$|[,)\]]))/
NUMBER: /(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?/
STRING: /"(?:[^"\\]|\\.)*"/
COMMENT: /\/\/[^\n]*/ | /\/\*(.|\n)*?\*\//
%ignore /\s+/
%ignore COMMENT
"""
# ``[1..5[`` ends with an open bracket, which would otherwise start a filter on 5: a "[" with nothing
# but the end, a comma or a closing bracket after it is that end (a filter cannot be empty).
END_OPEN = "_END_OPEN"
_INTERVALS = "interval: " + "\n        | ".join(
    f'"{o}" expr ".." expr {END_OPEN if c == "[" else repr(c).replace(chr(39), chr(34))}'
    f'  -> interval_{"c" if o == "[" else "o"}{"c" if c == "]" else "o"}'
    for o in "[(]" for c in "])[")
GRAMMAR = GRAMMAR.replace("MULTI)", _MULTI + ")").replace("INTERVALS", _INTERVALS)

Node = tuple[Any, ...]

RESERVED = frozenset({"in", "return", "then", "else", "satisfies", "and", "or", "between", "instance", "of",
                      "if", "for", "some", "every", "true", "false", "null", "function"})


class ReservedName(Exception):
    """A keyword where a name belongs (``{null: 1}``, ``then``)."""

    def __init__(self, word: str, position: int) -> None:
        super().__init__(f"{word!r} is a keyword, not a name")
        self.position = position

@cache
def _parser() -> Lark:
    """The LALR parser, built on first use (building the tables takes a few hundred milliseconds)."""
    return Lark(GRAMMAR, parser="lalr", start=["start", "unary_tests"], propagate_positions=True,
                maybe_placeholders=True)


def _pos(meta: Any) -> int:
    return int(getattr(meta, "column", 0) or 0)


def _unquote(token: str) -> str:
    body = token[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and i + 5 < len(body) + 0 and len(body) >= i + 6:
                try:
                    out.append(chr(int(body[i + 2:i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
            out.append({"n": "\n", "t": "\t", "r": "\r", "f": "\f", "b": "\b", '"': '"', "\\": "\\",
                        "'": "'"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@v_args(meta=True, inline=True)
class ToNodes(Transformer[Token, Node]):
    """The lark tree as ``(kind, position, ...)`` tuples."""

    def start(self, meta: Any, expr: Node) -> Node:
        return expr

    def name(self, meta: Any, token: Token) -> str:
        text = str(token)
        if text.startswith("`"):
            return text[1:-1]
        if text in RESERVED:
            raise ReservedName(text, _pos(meta))
        return " ".join(text.split())

    def key_name(self, meta: Any, *names: str) -> str:
        return " ".join(names)

    def empty_list(self, meta: Any, token: Token) -> Node:
        return ("list", _pos(meta), [])

    def number(self, meta: Any, token: Token) -> Node:
        return ("num", _pos(meta), CONTEXT.create_decimal(decimal.Decimal(str(token))))

    def string(self, meta: Any, token: Token) -> Node:
        return ("str", _pos(meta), _unquote(str(token)))

    def temporal(self, meta: Any, token: Token) -> Node:
        text = _unquote(str(token))
        return ("temporal", _pos(meta), text, parse_temporal(text))

    def true(self, meta: Any) -> Node:
        return ("const", _pos(meta), True)

    def false(self, meta: Any) -> Node:
        return ("const", _pos(meta), False)

    def null(self, meta: Any) -> Node:
        return ("const", _pos(meta), None)

    def var(self, meta: Any, name: str) -> Node:
        return ("var", _pos(meta), name)

    def path(self, meta: Any, base: Node, name: str) -> Node:
        return ("path", _pos(meta), base, name)

    def filter(self, meta: Any, base: Node, condition: Node) -> Node:
        return ("filter", _pos(meta), base, condition)

    def call(self, meta: Any, function: Node, arguments: Node | None) -> Node:
        return ("call", _pos(meta), function, arguments or ("positional", []))

    def neg(self, meta: Any, operand: Node) -> Node:
        return ("neg", _pos(meta), operand)

    def arith(self, meta: Any, left: Node, op: Token, right: Node) -> Node:
        return ("arith", _pos(meta), str(op), left, right)

    def compare(self, meta: Any, left: Node, op: Token, right: Node) -> Node:
        return ("cmp", _pos(meta), str(op), left, right)

    def or_(self, meta: Any, left: Node, right: Node) -> Node:
        return ("or", _pos(meta), left, right)

    def and_(self, meta: Any, left: Node, right: Node) -> Node:
        return ("and", _pos(meta), left, right)

    def between(self, meta: Any, value: Node, low: Node, high: Node) -> Node:
        return ("between", _pos(meta), value, low, high)

    def in_(self, meta: Any, value: Node, tests: list[Node]) -> Node:
        return ("in", _pos(meta), value, tests)

    def instance_of(self, meta: Any, value: Node, type_name: str) -> Node:
        return ("instance", _pos(meta), value, type_name)

    def type_name(self, meta: Any, name: Any = None) -> Any:
        if isinstance(name, Token) and name.type == "GENERIC_TYPE":
            return parse_type(str(name))
        return name or "function"

    def if_expr(self, meta: Any, condition: Node, then: Node, otherwise: Node) -> Node:
        return ("if", _pos(meta), condition, then, otherwise)

    def iteration(self, meta: Any, name: str, source: Node, end: Node | None = None) -> Node:
        return (name, source, end)

    def for_expr(self, meta: Any, *parts: Any) -> Node:
        return ("for", _pos(meta), list(parts[:-1]), parts[-1])

    def some(self, meta: Any, *parts: Any) -> Node:
        return ("some", _pos(meta), list(parts[:-1]), parts[-1])

    def every(self, meta: Any, *parts: Any) -> Node:
        return ("every", _pos(meta), list(parts[:-1]), parts[-1])

    def function_def(self, meta: Any, *parts: Any) -> Node:
        params = tuple(p for p in parts[:-1] if p is not None)
        return ("lambda", _pos(meta), params, parts[-1])

    def positional(self, meta: Any, *args: Node) -> Node:
        return ("positional", list(args))

    def named(self, meta: Any, *args: tuple[str, Node]) -> Node:
        return ("named", list(args))

    def named_arg(self, meta: Any, name: str, value: Node) -> tuple[str, Node]:
        return (name, value)

    def list_(self, meta: Any, *items: Node | None) -> Node:
        return ("list", _pos(meta), [i for i in items if i is not None])

    def context(self, meta: Any, *entries: tuple[str, Node] | None) -> Node:
        return ("context", _pos(meta), [e for e in entries if e is not None])

    def entry(self, meta: Any, key: Any, value: Node) -> tuple[str, Node]:
        return (_unquote(str(key)) if isinstance(key, Token) else key, value)

    def endpoint(self, meta: Any, value: Node) -> Node:
        return value

    def ut_cmp(self, meta: Any, op: Token, value: Node) -> Node:
        return ("ut_cmp", _pos(meta), str(op), value)

    def ut_expr(self, meta: Any, value: Node) -> Node:
        return ("ut_expr", _pos(meta), value)

    def positive_tests(self, meta: Any, *tests: Node) -> Node:
        return ("tests", _pos(meta), list(tests))

    def in_tests(self, meta: Any, *tests: Node) -> list[Node]:
        return [t if t[0] in ("ut_cmp", "ut_expr") else ("ut_expr", t[1], t) for t in tests]

    def and_call(self, meta: Any, arguments: Node | None) -> Node:
        return ("call", _pos(meta), ("var", _pos(meta), "and"), arguments or ("positional", []))

    def or_call(self, meta: Any, arguments: Node | None) -> Node:
        return ("call", _pos(meta), ("var", _pos(meta), "or"), arguments or ("positional", []))

    def not_call(self, meta: Any, tests: Node) -> Node:
        return ("not", _pos(meta), tests)

    def ut_any(self, meta: Any) -> Node:
        return ("ut_any", _pos(meta))

    def unary_tests(self, meta: Any, tests: Node) -> Node:
        if tests[0] == "tests" and len(tests[2]) == 1 and tests[2][0][0] == "ut_expr" and tests[2][0][2][0] == "not":
            return ("ut_not", tests[1], tests[2][0][2][2])
        return tests


def parse_type(text: str) -> Any:
    """A FEEL type (``list<number>``, ``context<a: string, b: list<Any>>``, ``function<Any> -> Any``) as
    a name or a tuple: ``("list", item)``, ``("range", point)``, ``("context", ((key, type), ...))``,
    ``("function",)``."""
    text = text.strip()
    head, _, rest = text.partition("<")
    head = head.strip()
    if not rest:
        return " ".join(text.split())
    if head == "function":
        return ("function",)
    inner = rest[:rest.rindex(">")]
    parts = _split_top(inner)
    if head == "context":
        entries = []
        for part in parts:
            key, _, type_text = part.partition(":")
            entries.append((key.strip(), parse_type(type_text)))
        return ("context", tuple(entries))
    return (head, parse_type(parts[0]) if parts else "Any")


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def _interval(start_included: bool, end_included: bool) -> Any:
    def build(self: ToNodes, meta: Any, low: Node, high: Node) -> Node:
        return ("interval", _pos(meta), start_included, end_included, low, high)

    return v_args(meta=True, inline=True)(build)


for _s, _e in (("c", "c"), ("c", "o"), ("o", "c"), ("o", "o")):
    setattr(ToNodes, f"interval_{_s}{_e}", _interval(_s == "c", _e == "c"))

_TO_NODES = ToNodes()


def parse(text: str, start: str = "start") -> Node:
    """The node tree of an expression (``start``) or of unary tests (``unary_tests``); lark's errors
    are raised as they are (the caller names the position)."""
    try:
        return _TO_NODES.transform(_parser().parse(text, start=start))  # type: ignore[no-any-return]
    except VisitError as error:
        raise error.orig_exc from None
