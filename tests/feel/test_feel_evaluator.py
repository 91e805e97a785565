"""mom.feel as the engine will use it: compiled once, evaluated against variables; errors name the
expression and the position; hostile expressions end as errors within a bounded budget."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from mom.feel import FeelError, compile_expression, compile_unary_tests, evaluate, to_json


def test_camunda_8_expressions_from_the_issue() -> None:
    assert evaluate("order = true", {"order": True}) is True
    assert evaluate("a = b", {"a": 1, "b": 1.0}) is True
    assert to_json(evaluate("for i in 1..3 return i")) == [1, 2, 3]
    assert evaluate("is defined(x)", {"x": None}) is True
    assert evaluate("is defined(y)", {}) is False
    assert evaluate('if amount > 1000 then "manager" else "clerk"', {"amount": 1500}) == "manager"
    assert evaluate("some x in items satisfies x > 3", {"items": [1, 5]}) is True
    assert evaluate("every x in items satisfies x > 3", {"items": [1, 5]}) is False
    assert to_json(evaluate("items[item > 3]", {"items": [1, 5, 7]})) == [5, 7]
    assert to_json(evaluate("items[-1]", {"items": [1, 5, 7]})) == 7
    assert to_json(evaluate("sort(xs, function(a, b) a > b)", {"xs": [1, 3, 2]})) == [3, 2, 1]
    assert evaluate('{"b c": 2, a: 1}.a') == 1
    assert to_json(evaluate("[{a: 1}, {a: 2}].a")) == [1, 2]
    assert evaluate("missing + 1") is None  # Camunda 8: a name no variable supplies is null


def test_instance_of_generic_types() -> None:
    assert evaluate("xs instance of list<number>", {"xs": [1, 2]}) is True
    assert evaluate("xs instance of list<number>", {"xs": [1, "a"]}) is False
    assert evaluate("{a: {b: 1}} instance of context<a: context<b: number>>") is True
    assert evaluate("{a: 1} instance of context<a: string>") is False
    assert evaluate("count(xs) < 3 and xs instance of list<Any>", {"xs": [1]}) is True


def test_numbers_are_decimals_and_json_keeps_integers_integral() -> None:
    assert to_json(evaluate("0.1 + 0.2")) == 0.3
    assert to_json(evaluate("10 / 4")) == 2.5
    assert to_json(evaluate("2 * 3")) == 6 and isinstance(to_json(evaluate("2 * 3")), int)
    assert evaluate("1 / 0") is None


def test_dates_and_durations_print_as_iso_8601() -> None:
    assert to_json(evaluate('date("2020-01-31") + duration("P1M")')) == "2020-02-29"
    assert to_json(evaluate('date and time("2020-01-01T10:00:00Z") - date and time("2020-01-01T08:30:00Z")')) \
        == "PT1H30M"
    assert to_json(evaluate('years and months duration(date("2011-12-22"), date("2013-08-24"))')) == "P1Y8M"


def test_now_reads_the_clock_it_is_given_never_the_machines() -> None:
    clock = dt.datetime(2030, 5, 6, 7, 8, tzinfo=dt.UTC)
    assert to_json(evaluate("today()", now=clock)) == "2030-05-06"
    with pytest.raises(FeelError, match="clock"):
        evaluate("now()")


def test_evaluations_on_several_threads_each_read_their_own_clock() -> None:
    from concurrent.futures import ThreadPoolExecutor

    expression = compile_expression(
        "for i in 1..100 return string(today()) + string(count(sort(xs, function(a, b) a < b)))")

    def run(day: int) -> set[str]:
        clock = dt.datetime(2030, 1, day, tzinfo=dt.UTC)
        seen: set[str] = set()
        for _ in range(30):
            seen.update(to_json(expression.evaluate({"xs": [3, 1, 2]}, now=clock)))
        return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(1, 9)))
    assert results == [{f"2030-01-0{day}3"} for day in range(1, 9)]


def test_unary_tests_as_dmn_input_entries() -> None:
    assert compile_unary_tests("[250..1000]").matches(300) is True
    assert compile_unary_tests("[250..1000]").matches(1001) is False
    assert compile_unary_tests("[1..5[, [6..10]").matches(5) is False  # a reversed bracket opens the end
    assert compile_unary_tests("[1..5[, [6..10]").matches(6) is True
    assert compile_unary_tests("]1..5]").matches(1) is False
    assert evaluate("x in [1..5[", {"x": 4}) is True and evaluate("xs[1]", {"xs": [7]}) == 7
    assert compile_unary_tests("< 10").matches(5) is True
    assert compile_unary_tests('"a","b"').matches("b") is True
    assert compile_unary_tests('not("x")').matches("x") is False
    assert compile_unary_tests("-").matches(None) is True
    assert compile_unary_tests("? > limit").matches(6, {"limit": 5}) is True


def test_syntax_errors_name_the_expression_and_the_position() -> None:
    with pytest.raises(FeelError) as error:
        compile_expression("a + * 2")
    assert error.value.position == 5
    assert "'a + * 2'" in str(error.value) and "position 5" in str(error.value)
    with pytest.raises(FeelError) as error:
        evaluate("x > 1 and nope(3)", {"x": 2})
    assert error.value.position == 11 and "nope" in error.value.message


def test_compiled_expressions_are_cached() -> None:
    assert compile_expression("x + 1") is compile_expression("x + 1")
    assert compile_expression("x + 1").evaluate({"x": 1}) == 2


def test_python_is_out_of_reach() -> None:
    for hostile in ('__import__("os").system("true")', "().__class__.__bases__", 'eval("1")'):
        with pytest.raises(FeelError):
            evaluate(hostile, {"x": 1})
    assert evaluate("x.__class__", {"x": 1}) is None  # a number has no such property: null
    assert evaluate("x.__class__.__name__", {"x": {"a": 1}}) is None  # a context key, not an attribute


@pytest.mark.parametrize("hostile", [
    "for i in 1..100000000 return i",
    "count(for i in 1..2000 return for j in 1..2000 return j)",
    "some i in 1..100000000 satisfies i < 0",
    # doubling a string or a list 25 times (2**25 items: it would go on) through partial results or recursion
    'string length(for i in 1..26 return if i = 1 then "x" else partial[-1] + partial[-1])',
    "count(for i in 1..26 return if i = 1 then [1] else concatenate(partial[-1], partial[-1]))",
    '{f: function(s, n) if n = 0 then string length(s) else f(s + s, n - 1)}.f("x", 25)',
])
def test_a_hostile_loop_ends_as_an_error_within_the_budget(hostile: str) -> None:
    started = time.monotonic()
    with pytest.raises(FeelError, match="budget"):
        evaluate(hostile)
    assert time.monotonic() - started < 60


def test_unbounded_recursion_ends_as_an_error() -> None:
    with pytest.raises(FeelError, match="deeper"):
        evaluate("{f: function(n) f(n + 1)}.f(1)")


def test_deeply_nested_text_is_an_error_not_a_crash() -> None:
    with pytest.raises(FeelError):
        evaluate("[" * 5000 + "1" + "]" * 5000)
    assert evaluate("(" * 3000 + "1" + ")" * 3000) == 1  # parentheses add no depth
