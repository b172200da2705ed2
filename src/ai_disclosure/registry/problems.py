"""RFC 9457 problem details: every API error is one ``Problem``, raised where it is
found and rendered in one place, so clients see one shape everywhere.

The ``Problem`` type, its titles and the write API's refusals live in the SDK core
(``_problems.py``), where the fake registry apps test against builds the same ones."""

from __future__ import annotations

import json

from starlette.responses import Response

from .._problems import PROBLEM_BASE, PROBLEM_TYPE, Problem

__all__ = ["PROBLEM_BASE", "PROBLEM_TYPE", "Problem", "problem_response"]


def problem_response(problem: Problem) -> Response:
    content = json.dumps(problem.as_json(), ensure_ascii=False).encode("utf-8")
    return Response(
        content, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_TYPE
    )
