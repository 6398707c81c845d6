"""Benchmark: the public species list (page of 50, nested status and images) against a
raw-SQL + json.dumps baseline that returns the same rows, served by the same gunicorn
(2 workers, production settings, PostgreSQL, Redis) in one run.

    python bench/species_list.py            # or: make bench
    python bench/species_list.py --seconds 20 --rounds 5 --connections 32

Needs PostgreSQL and Redis on 127.0.0.1 (as in CI) and wrk (installed from Debian if
missing). Prints requests/s of both and their ratio.
"""

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/species_list.py
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

API = f"{HOST}/api/v1/wildlife/species/?page_size=50"
BASELINE = f"{HOST}/bench/baseline/species/?page_size=50"

SEED = """
import django
django.setup()
from apps.business.wildlife.models import ConservationStatus, Species, SpeciesImage
codes = list(ConservationStatus.objects.values_list("id", flat=True))
letters = "abcdefghijklmnopqrstuvwxyz"
for n in range(200):
    name = "Benchus " + letters[n % 26] + letters[n // 26 % 26] + letters[n // 676 % 26]
    species, created = Species.objects.update_or_create(
        scientific_name=name,
        defaults=dict(common_name_es=f"Especie {n:03d}", common_name_en=f"Species {n:03d}",
                      taxon_class="Actinopterygii", taxon_order="Perciformes", family="Benchidae",
                      conservation_status_id=codes[n % len(codes)], description_es="Descripción " * 20,
                      description_en="Description " * 20, diet="Plankton", natural_habitat="Reef",
                      typical_length_cm=25, typical_lifespan_years=10, is_public=n % 10 != 0),
    )
    if created:
        for order in range(2):
            SpeciesImage.objects.create(species=species, image=f"species/{species.pk}/{order}.jpg",
                                        width=1200, height=800, alt_text_es="Foto", alt_text_en="Photo",
                                        display_order=order)
print(Species.objects.filter(is_public=True).count())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating measurements of each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", default="parque_marino_bench")
    options = parser.parse_args()

    wrk = ensure_wrk()
    env = bench_env(options.database)
    prepare_database(env, options.database)
    public = run([PYTHON, "-c", SEED], env, capture_output=True).stdout.strip()

    with gunicorn(env):
        api, baseline = fetch(API), fetch(BASELINE)
        if api["results"] != baseline["results"] or api["count"] != baseline["count"]:
            raise SystemExit("the baseline and the API do not return the same rows")
        # Alternate the two, round after round, so drift of the machine hits both alike.
        baseline_runs, api_runs = [], []
        for _ in range(options.rounds):
            baseline_runs.append(measure(wrk, BASELINE, options.seconds, options.connections))
            api_runs.append(measure(wrk, API, options.seconds, options.connections))
        baseline_rps, api_rps = statistics.median(baseline_runs), statistics.median(api_runs)
        # Each round's two measurements ran back to back: their ratio is the robust figure.
        ratio = statistics.median(
            api / base for api, base in zip(api_runs, baseline_runs, strict=True)
        )

    print(
        f"species list, page of 50 of {public} public species, gunicorn -w 2, "
        f"{options.connections} connections, {options.rounds} alternating rounds of {options.seconds} s"
    )
    baseline_all = ", ".join(f"{value:.1f}" for value in baseline_runs)
    api_all = ", ".join(f"{value:.1f}" for value in api_runs)
    print(
        f"  raw SQL + json.dumps baseline: {baseline_rps:8.1f} requests/s (median of {baseline_all})"
    )
    print(f"  API /api/v1/wildlife/species/: {api_rps:8.1f} requests/s (median of {api_all})")
    rounds = ", ".join(
        f"{api / base:.2f}" for api, base in zip(api_runs, baseline_runs, strict=True)
    )
    print(
        f"  ratio API / baseline:          {ratio:8.2f}  (median of rounds: {rounds}; target >= 0.50)"
    )


if __name__ == "__main__":
    main()
