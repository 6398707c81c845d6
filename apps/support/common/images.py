"""Pictures uploaded by staff: checked by what they contain, not by their name or header."""

import warnings

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from .errors import ServiceError

# What the public site shows, and the extension a stored picture gets.
ALLOWED_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
IMAGE_INVALID = "image_invalid"
IMAGE_TOO_LARGE = "image_too_large"
# Largest picture accepted, in pixels (40 MP: 8000 by 5000), whatever its size in bytes.
MAX_PIXELS = 40_000_000


def checked_image(
    image: UploadedFile, *, max_bytes: int, field: str = "image", max_pixels: int = MAX_PIXELS
) -> UploadedFile:
    """``image``, renamed ``upload.<ext>`` after its real format, if it is a whole JPEG, PNG
    or WebP picture of at most ``max_bytes`` and ``max_pixels``; else ``ServiceError`` (400)
    and nothing kept. The pixels are counted from the header, before anything is decoded: a
    small file may declare a picture that takes gigabytes to decode (a decompression bomb)."""
    if image.size is not None and image.size > max_bytes:
        raise ServiceError(
            _("The image is larger than %(limit)d MB.") % {"limit": max_bytes // 2**20},
            code=IMAGE_TOO_LARGE,
            field=field,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image) as picture:
                if picture.width * picture.height > max_pixels:
                    raise ServiceError(
                        _("The image has more than %(limit)d megapixels.")
                        % {"limit": max_pixels // 10**6},
                        code=IMAGE_TOO_LARGE,
                        field=field,
                    )
                picture.verify()
                image_format = picture.format
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ServiceError(
            _("The image has more than %(limit)d megapixels.") % {"limit": max_pixels // 10**6},
            code=IMAGE_TOO_LARGE,
            field=field,
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ServiceError(
            _("The file is not a JPEG, PNG or WebP image."), code=IMAGE_INVALID, field=field
        ) from error
    if image_format not in ALLOWED_IMAGE_FORMATS:
        raise ServiceError(
            _("The file is not a JPEG, PNG or WebP image."), code=IMAGE_INVALID, field=field
        )
    image.seek(0)
    image.name = f"upload.{ALLOWED_IMAGE_FORMATS[image_format]}"
    return image
