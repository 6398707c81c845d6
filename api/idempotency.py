"""The ``Idempotency-Key`` header on money-moving POSTs (order creation, payment).

A view wraps its work in ``idempotent(view, request, work)``: without the header the work just
runs; with it, the first answer (success or a definitive 4xx) is kept and a retry with the same
key gets it again, marked ``Idempotent-Replayed: true``, without creating anything new.
"""

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.support.common.idempotency import (
    fingerprint,
    idempotency_key_claim,
    idempotency_key_finish,
)

HEADER = "Idempotency-Key"

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]{1,255}$"},
    description=(
        "1 to 255 visible ASCII characters, `!` to `~` (a UUID is a good key); others are refused "
        "(400 `idempotency_key_invalid`). A retry with the same key returns the "
        "first answer and creates nothing new; the same key with a different request is "
        "refused (400 `idempotency_key_reused`); while the first request runs, 409 "
        "`idempotency_key_in_use`. Keys are kept 24 hours."
    ),
)


def idempotent(view: APIView, request: Request, work: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER)
    if key is None or not request.user.is_authenticated:
        return work()
    user_id = request.user.pk
    replay = idempotency_key_claim(
        user_id=user_id,
        key=key,
        request_fingerprint=fingerprint(
            method=request.method or "", path=request.path, body=request.data
        ),
    )
    if replay is not None:
        return Response(
            replay.body, status=replay.status_code, headers={"Idempotent-Replayed": "true"}
        )
    try:
        response = work()
    except Exception as error:
        try:
            response = view.handle_exception(error)
        except Exception:
            idempotency_key_finish(user_id=user_id, key=key, status_code=500, body=None)
            raise
    body: Any = response.data
    idempotency_key_finish(user_id=user_id, key=key, status_code=response.status_code, body=body)
    return response
