"""Celery beat's schedule: one list in the settings, every task registered, the same list in
docs/deployment with the command that does each job from cron; the jobs added with it."""

import re
from datetime import time, timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import get_commands
from django.utils import timezone

from config.celery import app

DEPLOYMENT = Path(__file__).resolve().parents[1] / "docs" / "deployment" / "README.md"


def documented_jobs() -> dict[str, tuple[str, str, str]]:
    """Beat entry → (task, when, command) from the table in docs/deployment."""
    rows = re.findall(
        r"^\| `([\w-]+)` \| `([\w.]+)` \| ([^|]+) \| ([^|]+) \|", DEPLOYMENT.read_text(), re.M
    )
    return {name: (task, when.strip(), command.strip()) for name, task, when, command in rows}


def when(schedule) -> str:
    if isinstance(schedule, float | int):
        return {60: "every minute", 300: "every 5 min", 3600: "hourly"}[int(schedule)]
    assert isinstance(schedule, crontab)
    hours, minutes = sorted(schedule.hour), sorted(schedule.minute)
    if len(hours) == 24:
        return f"hourly at :{minutes[0]:02d}"
    return f"daily {hours[0]:02d}:{minutes[0]:02d}"


def test_every_scheduled_task_exists_and_the_docs_list_the_same_jobs():
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    documented = documented_jobs()
    assert sorted(documented) == sorted(schedule)
    commands = get_commands()
    for name, entry in schedule.items():
        task, documented_when, command = documented[name]
        assert entry["task"] == task, name
        assert task in app.tasks, task
        assert when(entry["schedule"]) == documented_when, name
        if command != "—":
            assert command.strip("`").split()[0] in commands, command
    # The housekeeping the deployment needs, by name.
    assert {
        "payments.expire_orders",
        "security.flush_expired_tokens",
        "education.settle_waitlists",
        "exhibitions.publish_scheduled",
        "documents.empty_trash",
        "payments.fetch_statements",
        "tickets.generate_slots",
    } <= {entry["task"] for entry in schedule.values()}


@pytest.mark.django_db
def test_flushing_tokens_deletes_only_the_expired_ones(user):
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.support.security.tasks import flush_expired_tokens

    live, expired, expired_blacklisted = (RefreshToken.for_user(user) for _ in range(3))
    past = timezone.now() - timedelta(minutes=1)
    OutstandingToken.objects.filter(jti__in=[expired["jti"], expired_blacklisted["jti"]]).update(
        expires_at=past
    )
    BlacklistedToken.objects.create(
        token=OutstandingToken.objects.get(jti=expired_blacklisted["jti"])
    )
    assert flush_expired_tokens.delay().get() == 2
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [live["jti"]]
    assert BlacklistedToken.objects.count() == 0
    assert flush_expired_tokens.delay().get() == 0


@pytest.mark.django_db
def test_generating_slots_daily_opens_the_coming_days_once():
    from apps.business.tickets.models import OpeningSchedule, TimeSlot
    from apps.business.tickets.tasks import generate_slots

    today = timezone.localdate()
    OpeningSchedule.objects.create(
        name="Todo el año",
        valid_from=today,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        opens_at=time(9, 0),
        closes_at=time(11, 0),
        slot_minutes=60,
        capacity_per_slot=50,
    )
    assert generate_slots.delay(days=3).get() == 6
    assert generate_slots.delay(days=3).get() == 0
    days = sorted(set(TimeSlot.objects.values_list("date", flat=True)))
    assert days == [today + timedelta(days=offset) for offset in range(3)]
