"""Benchmark: reading a campaign with 100,000 paid gifts against one with 10, side by side in
one run, served by gunicorn (2 workers, production settings, PostgreSQL, Redis).

    python bench/campaigns.py            # or: make bench-campaigns
    python bench/campaigns.py --seconds 10 --rounds 5 --connections 16 --gifts 100000

A campaign's progress (raised, donors, percentage, days left) is kept on its row, so reading
it does no per-gift work: the ratio busy / quiet should stay near 1 (target >= 0.90). The
donor wall (first page, newest first, with its count) is measured the same way, for
information. Needs PostgreSQL and Redis on 127.0.0.1 and wrk (installed from Debian if
missing).
"""

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/campaigns.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    HOST,
    PYTHON,
    bench_env,
    ensure_wrk,
    fetch,
    gunicorn,
    measure,
    prepare_database,
    run,
)

# Two campaigns and their paid gifts, written in bulk by SQL (orders, lines, donations), then
# their running totals recounted by the service that checks them.
SEED = """
import sys
import django
django.setup()
from datetime import timedelta
from decimal import Decimal
from django.db import connection
from django.utils import timezone
from apps.business.donations.models import Campaign
from apps.business.donations.services import campaign_recount

def seeded(slug, gifts):
    campaign, created = Campaign.objects.get_or_create(
        slug=slug,
        defaults=dict(title_es=slug, goal=Decimal("100000000.00"), is_public=True,
                      starts_at=timezone.now() - timedelta(days=1),
                      ends_at=timezone.now() + timedelta(days=30)),
    )
    if campaign.donation_count == gifts:
        return campaign
    prefix = "B" + slug[:3].upper()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payments_order (code, email, channel, status, currency, total, expires_at,"
            " paid_at, cancel_reason, guest_token_hash, created_at, updated_at)"
            " SELECT %s || lpad(g::text, 9, '0'), 'donor' || g || '@example.org', 'online', 'paid',"
            " 'CRC', 1000, now(), now(), '', '', now(), now() FROM generate_series(1, %s) g",
            [prefix, gifts],
        )
        cursor.execute(
            "INSERT INTO payments_orderline (order_id, kind, description, unit_price, quantity,"
            " total, reference) SELECT id, 'donation', 'Donación', 1000, 1, 1000, '{}'"
            " FROM payments_order WHERE code LIKE %s",
            [prefix + "%"],
        )
        cursor.execute(
            "INSERT INTO donations_donation (order_id, line_id, campaign_id, amount, currency,"
            " status, donor_name, email, donor_key, anonymous, message, paid_at, created_at,"
            " updated_at) SELECT o.id, l.id, %s, 1000, 'CRC', 'paid', 'Donante ' || o.id, o.email,"
            " 'email:' || o.email, o.id %% 3 = 0, 'Gracias', now() - (o.id || ' seconds')::interval,"
            " now(), now() FROM payments_order o JOIN payments_orderline l ON l.order_id = o.id"
            " WHERE o.code LIKE %s",
            [campaign.pk, prefix + "%"],
        )
        # What autovacuum would do after such a load: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE donations_donation")
    campaign_recount(campaign=campaign)
    campaign.refresh_from_db()
    return campaign

quiet = seeded("quiet", 10)
busy = seeded("busy", int(sys.argv[1]))
print(quiet.pk, busy.pk, quiet.donation_count, busy.donation_count)
"""


def _alternate(wrk: str, urls: dict[str, str], options: argparse.Namespace) -> dict[str, list]:
    runs: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(options.rounds):
        for name, url in urls.items():
            runs[name].append(measure(wrk, url, options.seconds, options.connections))
    return runs


def _report(what: str, quiet: list[float], busy: list[float], target: str) -> None:
    rounds = [b / q for b, q in zip(busy, quiet, strict=True)]
    print(f"  {what}")
    print(f"    10 gifts:      {statistics.median(quiet):8.1f} requests/s")
    print(f"    many gifts:    {statistics.median(busy):8.1f} requests/s")
    shown = ", ".join(f"{ratio:.2f}" for ratio in rounds)
    print(f"    ratio many/10: {statistics.median(rounds):8.2f}  (rounds: {shown}){target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating measurements of each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--gifts", type=int, default=100_000)
    parser.add_argument("--database", default="parque_marino_bench_campaigns")
    options = parser.parse_args()

    wrk = ensure_wrk()
    env = bench_env(options.database)
    prepare_database(env, options.database)
    seeded = run([PYTHON, "-c", SEED, str(options.gifts)], env, capture_output=True).stdout
    quiet_id, busy_id, quiet_gifts, busy_gifts = (int(n) for n in seeded.split())
    base = f"{HOST}/api/v1/payments/campaigns"
    urls = {
        "quiet": f"{base}/{quiet_id}/",
        "busy": f"{base}/{busy_id}/",
        "quiet wall": f"{base}/{quiet_id}/donors/",
        "busy wall": f"{base}/{busy_id}/donors/",
    }
    with gunicorn(env):
        busy = fetch(urls["busy"])
        if busy["donor_count"] != busy_gifts or fetch(urls["quiet"])["donor_count"] != quiet_gifts:
            raise SystemExit("the campaigns do not show the gifts seeded")
        runs = _alternate(wrk, urls, options)

    print(
        f"campaign reads: {quiet_gifts} vs {busy_gifts} paid gifts, gunicorn -w 2, "
        f"{options.connections} connections, {options.rounds} alternating rounds of "
        f"{options.seconds} s"
    )
    _report("GET campaigns/{id}/", runs["quiet"], runs["busy"], "; target >= 0.90")
    _report("GET campaigns/{id}/donors/ (page 1)", runs["quiet wall"], runs["busy wall"], "")


if __name__ == "__main__":
    main()
