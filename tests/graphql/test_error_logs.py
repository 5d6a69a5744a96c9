"""A client's mistake is one INFO line; a bug is one ERROR with its traceback, never its text
in the response."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine, create_engine

from .execute import run


def test_a_domain_error_is_one_line_without_traceback(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        (error,) = run(engine, '{ dataset(name: "nope") { name } }')["errors"]
    assert error["code"] == "NOT_FOUND"
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("INFO", "NOT_FOUND at ['dataset']: dataset 'nope' does not exist")
    ]
    assert records[0].exc_info is None


def test_a_variable_that_does_not_fit_its_type_is_bad_input(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    document = (
        'mutation($l: LabelInput!) { createLabel(dataset: "d", branch: "main", label: $l) { id } }'
    )
    with caplog.at_level(logging.INFO):
        (error,) = run(engine, document, l={})["errors"]
    assert error["code"] == "BAD_USER_INPUT"
    assert "required field 'name'" in error["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_bug_is_logged_once_with_its_traceback_and_hidden(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with caplog.at_level(logging.INFO):
        (error,) = run(unreachable, '{ dataset(name: "x") { name } }')["errors"]
    assert error == {"message": "Internal server error.", "code": "INTERNAL_SERVER_ERROR"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
