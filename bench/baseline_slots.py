"""The baseline of the availability list: the slots of a day with capacity, seats sold, seats
held by unexpired holds and seats remaining, in one raw SQL query and json.dumps — no ORM, no
serializers, no DRF. The same rows and the same JSON as ``GET /api/v1/tickets/slots/``."""

import json
from datetime import date
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# Held seats per slot as the API counts them (tickets.selectors.slot_availability): holds whose
# status is 'held' and whose expires_at is still ahead; count(*) OVER () is the page's total.
SLOTS_SQL = """
SELECT s.id, s.date, s.starts_at, s.ends_at, s.capacity, s.sold, h.held,
       GREATEST(s.capacity - s.sold - h.held, 0),
       s.is_closed,
       NOT s.is_closed AND s.ends_at > %(now)s AND s.capacity > s.sold + h.held,
       count(*) OVER ()
FROM tickets_timeslot s
CROSS JOIN LATERAL (
    SELECT COALESCE(SUM(r.quantity), 0) AS held FROM tickets_reservation r
    WHERE r.slot_id = s.id AND r.status = 'held' AND r.expires_at > %(now)s
) h
WHERE s.date BETWEEN %(date_from)s AND %(date_to)s
ORDER BY s.starts_at
LIMIT %(size)s OFFSET %(offset)s
"""


def _datetime(value: object) -> str:
    text = timezone.localtime(value).isoformat()  # type: ignore[arg-type]
    return text[:-6] + "Z" if text.endswith("+00:00") else text  # as DRF writes it


def slots_page(request: HttpRequest) -> HttpResponse:
    day = date.fromisoformat(request.GET.get("date") or timezone.localdate().isoformat())
    page, size = int(request.GET.get("page", 1)), int(request.GET.get("page_size", 25))
    parameters: dict[str, Any] = {
        "now": timezone.now(),
        "date_from": day,
        "date_to": day,
        "size": size,
        "offset": (page - 1) * size,
    }
    with connection.cursor() as cursor:
        cursor.execute(SLOTS_SQL, parameters)
        rows = cursor.fetchall()
    count = rows[0][10] if rows else 0
    results = [
        {
            "id": row[0],
            "date": row[1].isoformat(),
            "starts_at": _datetime(row[2]),
            "ends_at": _datetime(row[3]),
            "capacity": row[4],
            "sold": row[5],
            "held": row[6],
            "remaining": row[7],
            "is_closed": row[8],
            "bookable": row[9],
        }
        for row in rows
    ]
    path = request.build_absolute_uri(request.path)
    more = page * size < count
    body = {
        "count": count,
        "next": f"{path}?date={day}&page={page + 1}&page_size={size}" if more else None,
        "previous": None if page == 1 else f"{path}?date={day}&page={page - 1}&page_size={size}",
        "results": results,
    }
    return HttpResponse(json.dumps(body), content_type="application/json")
