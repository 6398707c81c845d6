"""Demo data of documents: the park's folders (each seen by its roles) and a few documents,
among them the CITES permit of the green turtle Galápagos (two versions: the permit and its
renewal), a veterinary lab report, a water-quality certificate with its readings as CSV, and
the visitor rules in the public folder. The PDFs are made here (fpdf2); nothing is
downloaded. Folders and documents are found by name and title: a second run adds nothing."""

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF

from apps.business.infrastructure.models import Habitat
from apps.business.wildlife.models import Animal, Species
from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User
from apps.support.security.roles import Role

from . import services
from .models import Document, Folder

# Name, parent, public, roles.
FOLDERS: tuple[tuple[str, str | None, bool, tuple[str, ...]], ...] = (
    ("Permisos", None, False, (Role.CURATOR, Role.VETERINARIAN)),
    ("CITES", "Permisos", False, (Role.CURATOR,)),
    ("Veterinaria", None, False, (Role.VETERINARIAN, Role.CURATOR)),
    ("Calidad del agua", None, False, (Role.AQUARIST, Role.CURATOR, Role.VETERINARIAN)),
    (
        "Procedimientos de seguridad",
        None,
        False,
        (
            Role.CURATOR,
            Role.VETERINARIAN,
            Role.AQUARIST,
            Role.EDUCATOR,
            Role.CONTENT_EDITOR,
            Role.TICKET_OFFICE,
            Role.GATE_STAFF,
            Role.FINANCE,
        ),
    ),
    ("Contratos", None, False, (Role.FINANCE,)),
    ("Material educativo", None, False, (Role.EDUCATOR, Role.CONTENT_EDITOR)),
    ("Público", None, True, ()),
)


def demo_pdf(title: str, *lines: str) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))  # the same bytes on every run
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


WATER_CSV = (
    "fecha;hábitat;ph;temperatura_c;amoniaco_mg_l;nitratos_mg_l\n"
    "2026-01-05;Gran Tanque Arrecife;8.15;25.4;0.01;4.2\n"
    "2026-01-12;Gran Tanque Arrecife;8.12;25.1;0.02;4.8\n"
    "2026-01-19;Gran Tanque Arrecife;8.18;25.6;0.01;5.0\n"
).encode()


def _folders() -> dict[str, Folder]:
    made: dict[str, Folder] = {}
    for name, parent, public, roles in FOLDERS:
        parent_folder = made[parent] if parent else None
        folder = Folder.objects.filter(name=name, parent=parent_folder).first()
        if folder is None:
            folder = services.folder_create(
                actor=None,
                data={
                    "name": name,
                    "parent": parent_folder,
                    "is_public": public,
                    "roles": list(Group.objects.filter(name__in=roles)),
                },
            )
        made[name] = folder
    return made


def _document(
    *,
    folder: Folder,
    title: str,
    files: list[tuple[str, bytes, str]],
    actor: User,
    data: dict[str, Any],
) -> Document:
    document = Document.objects.filter(folder=folder, title=title).first()
    if document is not None:
        return document
    (name, content, note), *later = files
    document = services.document_create(
        actor=actor,
        folder=folder,
        title=title,
        file=SimpleUploadedFile(name, content),
        data={**data, "note": note},
    )
    for name, content, note in later:
        services.version_add(
            actor=actor, document=document, file=SimpleUploadedFile(name, content), note=note
        )
    return document


@demo_step(order=50, name="documents.folders_and_documents", atomic=False)
def create_documents(context: DemoContext) -> None:
    """Not atomic: each upload reaches storage before its own short transaction."""
    folders = _folders()
    curator = User.objects.get(email="curator@parquemarino.test")
    vet = User.objects.get(email="vet@parquemarino.test")
    aquarist = User.objects.get(email="aquarist@parquemarino.test")
    admin = User.objects.get(email="admin@parquemarino.test")
    turtle = Animal.objects.filter(institutional_id="PMP-2019-0003").first()
    green_turtle = Species.objects.filter(scientific_name="Chelonia mydas").first()
    reef = Habitat.objects.filter(name="Gran Tanque Arrecife").first()
    animal_links = {
        "animals": [turtle] if turtle else [],
        "species": [green_turtle] if green_turtle else [],
    }

    permit = _document(
        folder=folders["CITES"],
        title="Permiso CITES de exportación — tortuga verde Galápagos",
        actor=curator,
        files=[
            (
                "Permiso CITES CR-2026-0147.pdf",
                demo_pdf(
                    "Permiso CITES CR-2026-0147",
                    "Especie: Chelonia mydas (Apéndice I). Ejemplar: PMP-2019-0003 Galápagos.",
                    "Propósito: traslado a centro de rehabilitación. Válido hasta 2026-06-30.",
                ),
                "Permiso emitido por el SINAC.",
            ),
            (
                "Permiso CITES CR-2026-0147 (renovado).pdf",
                demo_pdf(
                    "Permiso CITES CR-2026-0147 (renovación)",
                    "Especie: Chelonia mydas (Apéndice I). Ejemplar: PMP-2019-0003 Galápagos.",
                    "Renovado hasta 2026-12-31.",
                ),
                "Renovación por seis meses.",
            ),
        ],
        data={"tags": ["cites", "exportación", "2026"], **animal_links},
    )
    _document(
        folder=folders["Veterinaria"],
        title="Hemograma de Galápagos — enero 2026",
        actor=vet,
        files=[
            (
                "hemograma-PMP-2019-0003.pdf",
                demo_pdf(
                    "Informe de laboratorio veterinario",
                    "Paciente: PMP-2019-0003 Galápagos (Chelonia mydas).",
                    "Hematocrito 28 %. Proteínas totales 4,1 g/dL. Sin hallazgos de infección.",
                ),
                "",
            )
        ],
        data={"tags": ["laboratorio"], **animal_links},
    )
    _document(
        folder=folders["Calidad del agua"],
        title="Certificado de calidad del agua — Gran Tanque Arrecife, enero",
        actor=aquarist,
        files=[
            (
                "certificado-agua-2026-01.pdf",
                demo_pdf(
                    "Certificado de análisis de agua",
                    "Laboratorio acreditado. Muestra: Gran Tanque Arrecife, 2026-01-19.",
                    "Amoniaco 0,01 mg/L; nitratos 5,0 mg/L; pH 8,18: dentro de los rangos.",
                ),
                "",
            )
        ],
        data={"tags": ["laboratorio", "agua"], "habitats": [reef] if reef else []},
    )
    _document(
        folder=folders["Calidad del agua"],
        title="Lecturas semanales — Gran Tanque Arrecife",
        actor=aquarist,
        files=[("lecturas-arrecife-2026-01.csv", WATER_CSV, "")],
        data={"tags": ["agua"], "habitats": [reef] if reef else []},
    )
    _document(
        folder=folders["Público"],
        title="Reglamento para visitantes",
        actor=admin,
        files=[
            (
                "reglamento-visitantes.pdf",
                demo_pdf(
                    "Reglamento para visitantes",
                    "No alimente a los animales. No golpee los vidrios. No use flash.",
                ),
                "",
            )
        ],
        data={"tags": ["visitantes"]},
    )
    context.notes.append(
        f"Documents: the CITES permit of Galápagos is document {permit.pk} "
        f"(GET /api/v1/documents/documents/{permit.pk}/versions/ as curator@parquemarino.test)."
    )
