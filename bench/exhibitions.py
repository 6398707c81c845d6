"""Benchmark: the public exhibitions list (page of 25: hero image with its card rendition,
species cards, section and habitat) and one exhibition (its body blocks, gallery and three
renditions of each picture) against a raw-SQL + json.dumps baseline that returns the same JSON,
served by the same gunicorn (2 workers, production settings, PostgreSQL, Redis) in one run.

    python bench/exhibitions.py            # or: make bench-exhibitions
    python bench/exhibitions.py --seconds 20 --rounds 5 --connections 32

It recreates a `parque_marino_bench_exhibitions` database (the pictures are stored in a new
temporary MEDIA_ROOT each run) and empties Redis database 7, which it uses. Through the
services it writes 60 published exhibitions (a hero picture, three species, a body of six
blocks with a picture and a species card, a gallery of two), one of them with a later draft,
one scheduled to change next week and one to be unpublished next month (all three still show
what is live), and hidden ones: three drafts, one scheduled for next week, one unpublished. It
makes every rendition once (first use creates the files), checks that the API and the baseline
return the same rows and the same item and that the hidden ones are in neither, then measures
both with wrk in alternating rounds (wrk sends no If-None-Match: every answer of the API is a
whole 200 with its ETag computed). Needs PostgreSQL and Redis on 127.0.0.1 (as in CI) and wrk
(installed from Debian if missing). Prints requests/s of both and their ratio, for the list and
for the item.
"""

import argparse
import statistics
import sys
import urllib.error
import urllib.request
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/exhibitions.py
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

REDIS_URL = "redis://127.0.0.1:6379/7"
API = f"{HOST}/api/v1/exhibitions/"
BASELINE = f"{HOST}/bench/baseline/exhibitions/"

SEED = """
import io, sys
import django
django.setup()
from datetime import timedelta
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from apps.business.exhibitions import services
from apps.business.exhibitions.models import Exhibition, ExhibitionImage
from apps.business.infrastructure.models import Habitat, Section
from apps.business.wildlife.models import ConservationStatus, Species
from apps.support.security.models import User

count = int(sys.argv[1])
editor = User.objects.create_user("bench-editor@example.org")
gradient = Image.linear_gradient("L").resize((1600, 900))

def picture(n, alt):
    shade = Image.new("L", (1600, 900), n * 37 % 256)
    stream = io.BytesIO()
    Image.merge("RGB", (gradient, shade, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM))).save(
        stream, "JPEG", quality=80)
    upload = SimpleUploadedFile(f"bench{n}.jpg", stream.getvalue(), content_type="image/jpeg")
    return services.image_create(actor=editor, file=upload, alt_text_es=alt, alt_text_en=alt + " (en)",
                                 credit="Parque Marino" if n % 2 else "")

codes = list(ConservationStatus.objects.values_list("id", flat=True))
species = [
    Species.objects.create(
        scientific_name=f"Benchus exhibitus{n:02d}", common_name_es=f"Especie {n:02d}",
        common_name_en=f"Species {n:02d}", taxon_class="Actinopterygii", taxon_order="Perciformes",
        family="Benchidae", conservation_status_id=codes[n % len(codes)], description_es="Descripción",
        is_public=n % 10 != 3)
    for n in range(30)
]
sections = [Section.objects.create(name_es=f"Sección {n}", name_en=f"Section {n}" if n else "",
                                   display_order=n) for n in range(3)]
habitats = [Habitat.objects.create(name=f"Hábitat {n}", section=sections[n % 3], kind="tank",
                                   capacity=20) for n in range(6)]
pool = [picture(1000 + n, f"Foto {n} del cuerpo") for n in range(10)]
today = timezone.localdate()
now = timezone.now()

def data(n, slug):
    body_picture, card = pool[n % len(pool)], species[(n * 7 + 1) % len(species)]
    return {
        "slug": slug, "kind": ("permanent", "temporary", "itinerant")[n % 3],
        "title_es": f"Exhibición {n:03d}", "title_en": f"Exhibition {n:03d}" if n % 4 else "",
        "summary_es": "Un recorrido por el arrecife y sus habitantes. " * 4,
        "summary_en": "A walk through the reef and those who live there. " * 4 if n % 5 else "",
        "hero_image": picture(n, f"Portada {n}"),
        "section": sections[n % 3], "habitat": habitats[n % 6] if n % 7 else None,
        "species": [species[(n * 3 + k) % len(species)] for k in range(3)],
        "opens_on": today - timedelta(days=400 - 5 * (n % 50)),
        "closes_on": today + timedelta(days=30 + n) if n % 3 == 1 else None,
        "body_es": [
            {"type": "rich_text", "value": "<p>El <strong>Gran Tanque</strong> reproduce un arrecife "
             "rocoso: 450 000 litros de agua salada a 26 °C, con <a href=\\"https://example.org/\\">"
             "su historia</a>.</p>" * 3},
            {"type": "fact_box", "value": {"title": "En cifras", "facts": [
                {"label": "Agua", "value": "450 000 litros"}, {"label": "Especies", "value": "Más de 40"},
                {"label": "Temperatura", "value": "26 °C"}]}},
            {"type": "image", "value": {"image": body_picture.pk, "alt_text": "Cardumen sobre el coral",
                                        "credit": "" if n % 2 else "Foto del parque",
                                        "caption": "El arrecife al amanecer."}},
            {"type": "species_card", "value": {"species": card.pk, "note": "Búscala junto a las rocas."}},
            {"type": "rich_text", "value": "<h3>Cómo llegar</h3><ul><li>Entrada norte</li>"
             "<li>Segunda sala a la derecha</li></ul>"},
            {"type": "call_to_action", "value": {"label": "Compra tu entrada", "url": "/entradas"}},
        ],
        "gallery": [{"image": pool[(n + k) % len(pool)], "caption_es": f"Foto {k}",
                     "caption_en": f"Picture {k}" if k else ""} for k in range(2)],
        **({"body_en": [{"type": "rich_text", "value": "<p>The Great Tank.</p>"}]} if n % 2 else {}),
    }

for n in range(count):
    exhibition = services.exhibition_create(actor=editor, data=data(n, f"exhibicion-{n:03d}"))
    services.exhibition_publish(actor=editor, exhibition=exhibition)
    if n == 7:  # a later draft: the public still sees what is live
        services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Borrador"})
    if n == 13:  # a later version scheduled for next week: what is live stays until then
        services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Pronto"})
        services.exhibition_publish(actor=editor, exhibition=exhibition, at=now + timedelta(days=7))
    if n == 21:  # to be unpublished next month: still live now
        services.exhibition_unpublish(actor=editor, exhibition=exhibition, at=now + timedelta(days=30))
hidden = []
for n in range(3):  # drafts
    hidden.append(services.exhibition_create(actor=editor, data=data(200 + n, f"borrador-{n}")).slug)
scheduled = services.exhibition_create(actor=editor, data=data(210, "programada"))
services.exhibition_publish(actor=editor, exhibition=scheduled, at=now + timedelta(days=7))
withdrawn = services.exhibition_create(actor=editor, data=data(211, "retirada"))
services.exhibition_publish(actor=editor, exhibition=withdrawn)
services.exhibition_unpublish(actor=editor, exhibition=withdrawn)
hidden += [scheduled.slug, withdrawn.slug]

# Every size the API shows, made once now (the first use creates the files).
specs = [settings.EXHIBITION_RENDITIONS[name] for name in ("card", "hero", "gallery")]
for image in ExhibitionImage.objects.all():
    image.get_renditions(*specs)
shown = Exhibition.objects.filter(live=True).count()
print(shown, f"exhibicion-{count // 2:03d}", ",".join(hidden))
"""


def _missing(url: str) -> bool:
    """Whether GET ``url`` answers 404."""
    try:
        with urllib.request.urlopen(url, timeout=10):
            return False
    except urllib.error.HTTPError as error:
        return error.code == 404


def _check(page: str, item: str, hidden: list[str]) -> tuple[int, int]:
    """The API and the baseline agree on every page of the list and on the item (in both
    languages), and neither shows a hidden exhibition; the number of exhibitions listed and of
    the item's blocks."""
    api, baseline = fetch(f"{API}?{page}"), fetch(f"{BASELINE}?{page}")
    if api["results"] != baseline["results"] or api["count"] != baseline["count"]:
        raise SystemExit("the baseline and the API do not return the same rows")
    slugs, number = [], 1
    while True:
        listed = fetch(f"{API}?page={number}&page_size=100")
        slugs += [row["slug"] for row in listed["results"]]
        if fetch(f"{BASELINE}?page={number}&page_size=100")["results"] != listed["results"]:
            raise SystemExit(f"the baseline and the API differ on page {number} of 100")
        if not listed["next"]:
            break
        number += 1
    if len(slugs) != api["count"] or set(slugs) & set(hidden):
        raise SystemExit(f"the API lists what is not published: {sorted(set(slugs) & set(hidden))}")
    for language in ("es", "en"):
        if fetch(f"{API}{item}/?lang={language}") != fetch(f"{BASELINE}{item}/?lang={language}"):
            raise SystemExit(f"the baseline and the API do not return the same item ({language})")
    english = f"{page}&lang=en"
    if fetch(f"{API}?{english}")["results"] != fetch(f"{BASELINE}?{english}")["results"]:
        raise SystemExit("the baseline and the API do not return the same rows in English")
    one = fetch(f"{API}{item}/")
    for slug in hidden:
        if not (_missing(f"{API}{slug}/") and _missing(f"{BASELINE}{slug}/")):
            raise SystemExit(f"{slug}, not published, is shown")
    return len(slugs), len(one["body"])


def _report(what: str, baseline: list[float], api: list[float]) -> None:
    rounds = [a / b for a, b in zip(api, baseline, strict=True)]
    baseline_all = ", ".join(f"{value:.1f}" for value in baseline)
    api_all = ", ".join(f"{value:.1f}" for value in api)
    shown = ", ".join(f"{ratio:.2f}" for ratio in rounds)
    print(f"  {what}")
    print(
        f"    raw SQL + json.dumps baseline: {statistics.median(baseline):8.1f} requests/s "
        f"(median of {baseline_all})"
    )
    print(
        f"    API:                           {statistics.median(api):8.1f} requests/s "
        f"(median of {api_all})"
    )
    print(
        f"    ratio API / baseline:          {statistics.median(rounds):8.2f}  "
        f"(median of rounds: {shown}; target >= 0.50)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternating measurements of each")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--exhibitions", type=int, default=60, help="published")
    parser.add_argument("--database", default="parque_marino_bench_exhibitions")
    options = parser.parse_args()

    wrk = ensure_wrk()
    env = bench_env(options.database, REDIS_URL=REDIS_URL)
    prepare_database(env, options.database, fresh=True)
    # Wagtail keeps renditions in the cache by image id and file hash: a fresh database makes
    # the same ids and hashes again, so the entries of an earlier run must go.
    run(
        [PYTHON, "-c", "import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()", REDIS_URL],
        env,
    )
    seeded = run([PYTHON, "-c", SEED, str(options.exhibitions)], env, capture_output=True).stdout
    published, item, hidden = seeded.split()
    page = "page_size=25"
    urls = {
        "list baseline": f"{BASELINE}?{page}",
        "list": f"{API}?{page}",
        "item baseline": f"{BASELINE}{item}/",
        "item": f"{API}{item}/",
    }

    with gunicorn(env):
        listed, blocks = _check(page, item, hidden.split(","))
        if listed != int(published):
            raise SystemExit(f"{listed} exhibitions listed, {published} published")
        # Alternate them, round after round, so drift of the machine hits all alike.
        runs: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(options.rounds):
            for name, url in urls.items():
                runs[name].append(measure(wrk, url, options.seconds, options.connections))

    print(
        f"exhibitions: {listed} listed of {published} live rows ({len(hidden.split(','))} drafts, "
        f"scheduled or unpublished left out), gunicorn -w 2, {options.connections} connections, "
        f"{options.rounds} alternating rounds of {options.seconds} s"
    )
    # Each round's measurements ran back to back: their ratio is the robust figure.
    _report(
        "GET /api/v1/exhibitions/?page_size=25 (card rendition)",
        runs["list baseline"],
        runs["list"],
    )
    _report(
        f"GET /api/v1/exhibitions/{item}/ ({blocks} blocks, gallery; card, hero, gallery renditions)",
        runs["item baseline"],
        runs["item"],
    )


if __name__ == "__main__":
    main()
