"""The one place where pixel coordinates and normalised image coordinates meet.

House convention: inside ``core`` a position is ``(x, y)`` in [0, 1], x to the
right, y down, relative to the *original* image. Pixel coordinates are continuous: the top-left
corner of the top-left pixel is ``(0, 0)`` and pixel index ``i`` covers ``[i, i + 1)``, so its
centre is ``i + 0.5``. A position in pixels ``x_px`` is ``x * width``; an integer pixel *index*
(as some datasets record) converts through its centre.

``Letterbox`` maps an original image onto a square (or any) model input with the aspect ratio
kept, and back, exactly: points and maps go both ways through the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.transform import resize as _sk_resize

__all__ = [
    "Letterbox",
    "index_to_norm",
    "norm_to_px",
    "px_to_norm",
    "resize_image",
]


def px_to_norm(xy_px: np.ndarray, width: int, height: int) -> np.ndarray:
    """Continuous pixel positions ``(..., 2)`` of a ``width`` x ``height`` image -> normalised."""
    xy = np.asarray(xy_px, dtype=np.float64)
    return xy / np.array([width, height], dtype=np.float64)


def norm_to_px(xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Normalised positions ``(..., 2)`` -> continuous pixel positions of the given image."""
    xy = np.asarray(xy, dtype=np.float64)
    return xy * np.array([width, height], dtype=np.float64)


def index_to_norm(ij_xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Integer pixel indices ``(..., 2)`` as ``(column, row)`` -> normalised pixel centres."""
    xy = np.asarray(ij_xy, dtype=np.float64)
    return (xy + 0.5) / np.array([width, height], dtype=np.float64)


def resize_image(image: np.ndarray, height: int, width: int, *, order: int = 1) -> np.ndarray:
    """Resize a 2-D array to ``(height, width)`` with anti-aliasing when shrinking.

    ``order`` is the spline order (0 nearest for masks/labels, 1 bilinear for images).
    Returns float32 for ``order > 0`` and the input dtype for ``order == 0``.
    """
    if image.ndim != 2:
        raise ValueError(f"resize_image expects a 2-D array, got shape {image.shape}")
    if image.shape == (height, width):
        return image.copy()
    shrinking = height < image.shape[0] or width < image.shape[1]
    if order == 1 and shrinking:
        out = _reduced_resize(image, height, width)
        if out is not None:
            return out
    out = _sk_resize(
        image,
        (height, width),
        order=order,
        mode="edge",
        anti_aliasing=bool(order > 0 and shrinking),
        preserve_range=True,
    )
    if order == 0:
        return out.astype(image.dtype)
    return out.astype(np.float32)


# Sources larger than this are first reduced by block means (see _reduced_resize): the Gaussian
# anti-aliasing filter on a full 2k-4k radiograph costs ~0.1 s per resize.
PREREDUCE_ABOVE = 1024


def _reduced_resize(image: np.ndarray, height: int, width: int) -> np.ndarray | None:
    """Bilinear, anti-aliased shrink of a large image through a block-mean reduction, so the
    Gaussian runs on an image ``k^2`` times smaller; None when not worth it (sources up to
    ``PREREDUCE_ABOVE`` px, or shrinking by less than 4).

    ``k`` is half the shrink factor (the Gaussian still filters the remaining factor of about 2,
    as ``skimage.transform.resize`` would). Block ``i`` covers original pixels
    ``[k i, k (i + 1))``; sides that ``k`` does not divide are padded with their edge values,
    and output pixels are sampled at exactly the positions a direct resize samples (the
    padding lies beyond them), so the geometry is the same as without the reduction.
    """
    h, w = image.shape
    k = min(h // height, w // width) // 2
    if max(h, w) <= PREREDUCE_ABOVE or k < 2:
        return None
    a = image.astype(np.float32, copy=False)
    if h % k or w % k:
        a = np.pad(a, ((0, -h % k), (0, -w % k)), mode="edge")
    r = a.reshape(a.shape[0] // k, k, a.shape[1] // k, k).mean(axis=(1, 3))
    fy, fx = h / k / height, w / k / width  # remaining shrink factors, in reduced pixels
    r = ndi.gaussian_filter(r, (max(0.0, (fy - 1) / 2), max(0.0, (fx - 1) / 2)), mode="nearest")
    yy = (np.arange(height) + 0.5) * fy - 0.5  # output pixel centres in reduced pixel indices
    xx = (np.arange(width) + 0.5) * fx - 0.5
    grid = np.meshgrid(yy, xx, indexing="ij")
    return ndi.map_coordinates(r, grid, order=1, mode="nearest").astype(np.float32)


@dataclass(frozen=True)
class Letterbox:
    """Aspect-preserving fit of a ``src`` image into a ``dst`` canvas, centred, padded.

    The image content occupies ``content_w`` x ``content_h`` pixels of the canvas starting at
    ``(pad_x, pad_y)``. Scale factors are per axis (``content_w / src_w``) so that the
    mapping agrees exactly with the resized pixels even after rounding the content size.
    """

    src_w: int
    src_h: int
    dst_w: int
    dst_h: int
    content_w: int
    content_h: int
    pad_x: int
    pad_y: int

    @classmethod
    def fit(cls, src_w: int, src_h: int, dst_w: int, dst_h: int | None = None) -> Letterbox:
        """The letterbox that fits ``src`` into ``dst`` (square when ``dst_h`` is omitted)."""
        dst_h = dst_w if dst_h is None else dst_h
        if min(src_w, src_h, dst_w, dst_h) <= 0:
            raise ValueError(f"sizes must be positive, got src {src_w}x{src_h} dst {dst_w}x{dst_h}")
        scale = min(dst_w / src_w, dst_h / src_h)
        content_w = max(1, min(dst_w, round(src_w * scale)))
        content_h = max(1, min(dst_h, round(src_h * scale)))
        return cls(
            src_w=src_w,
            src_h=src_h,
            dst_w=dst_w,
            dst_h=dst_h,
            content_w=content_w,
            content_h=content_h,
            pad_x=(dst_w - content_w) // 2,
            pad_y=(dst_h - content_h) // 2,
        )

    @property
    def scale_x(self) -> float:
        return self.content_w / self.src_w

    @property
    def scale_y(self) -> float:
        return self.content_h / self.src_h

    def norm_to_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Normalised original-image positions -> continuous canvas pixel positions."""
        xy = np.asarray(xy, dtype=np.float64)
        out = np.empty_like(xy)
        out[..., 0] = xy[..., 0] * self.content_w + self.pad_x
        out[..., 1] = xy[..., 1] * self.content_h + self.pad_y
        return out

    def canvas_to_norm(self, xy_px: np.ndarray) -> np.ndarray:
        """Continuous canvas pixel positions -> normalised original-image positions.

        Positions in the padding map outside [0, 1]; callers decide whether to clip.
        """
        xy_px = np.asarray(xy_px, dtype=np.float64)
        out = np.empty_like(xy_px)
        out[..., 0] = (xy_px[..., 0] - self.pad_x) / self.content_w
        out[..., 1] = (xy_px[..., 1] - self.pad_y) / self.content_h
        return out

    def apply(self, image: np.ndarray, *, fill: float = 0.0, order: int = 1) -> np.ndarray:
        """Resize ``image`` (``src_h`` x ``src_w``) into the canvas, padding with ``fill``."""
        if image.shape[:2] != (self.src_h, self.src_w):
            raise ValueError(
                f"image shape {image.shape[:2]} does not match letterbox source "
                f"{(self.src_h, self.src_w)}"
            )
        content = resize_image(image, self.content_h, self.content_w, order=order)
        canvas = np.full((self.dst_h, self.dst_w), fill, dtype=content.dtype)
        canvas[
            self.pad_y : self.pad_y + self.content_h, self.pad_x : self.pad_x + self.content_w
        ] = content
        return canvas

    def invert(self, canvas: np.ndarray, *, order: int = 1) -> np.ndarray:
        """A canvas-sized map (e.g. attention) -> the same map on the original pixel grid."""
        if canvas.shape[:2] != (self.dst_h, self.dst_w):
            raise ValueError(
                f"map shape {canvas.shape[:2]} does not match letterbox canvas "
                f"{(self.dst_h, self.dst_w)}"
            )
        content = canvas[
            self.pad_y : self.pad_y + self.content_h, self.pad_x : self.pad_x + self.content_w
        ]
        return resize_image(content, self.src_h, self.src_w, order=order)
