import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.io.geometry import Letterbox, index_to_norm, norm_to_px, px_to_norm, resize_image


def test_pixel_norm_roundtrip_and_centres():
    xy = np.array([[0.0, 0.0], [512.0, 256.0], [1023.5, 511.5]])
    n = px_to_norm(xy, 1024, 512)
    np.testing.assert_allclose(n, [[0, 0], [0.5, 0.5], [1023.5 / 1024, 511.5 / 512]])
    np.testing.assert_allclose(norm_to_px(n, 1024, 512), xy)
    # index 0 of a 4-pixel row is centred at 0.125, index 3 at 0.875
    np.testing.assert_allclose(index_to_norm([[0, 3]], 4, 4), [[0.125, 0.875]])


def test_letterbox_wide_image_pads_top_and_bottom():
    lb = Letterbox.fit(2000, 1000, 256)
    assert (lb.content_w, lb.content_h) == (256, 128)
    assert (lb.pad_x, lb.pad_y) == (0, 64)
    # the image centre lands on the canvas centre; corners on the content corners
    np.testing.assert_allclose(lb.norm_to_canvas(np.array([0.5, 0.5])), [128, 128])
    np.testing.assert_allclose(lb.norm_to_canvas(np.array([[0, 0], [1, 1]])), [[0, 64], [256, 192]])


@given(
    st.integers(10, 3000),
    st.integers(10, 3000),
    st.integers(8, 512),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_letterbox_points_roundtrip(w, h, d, x, y):
    lb = Letterbox.fit(w, h, d)
    p = np.array([x, y])
    np.testing.assert_allclose(lb.canvas_to_norm(lb.norm_to_canvas(p)), p, atol=1e-9)


def test_letterbox_image_and_inverse_keep_a_marked_pixel_in_place():
    img = np.zeros((300, 600), np.float32)
    img[100:120, 400:420] = 1.0  # a bright square centred at x=410/600, y=110/300
    lb = Letterbox.fit(600, 300, 128)
    canvas = lb.apply(img)
    assert canvas.shape == (128, 128)
    ys, xs = np.nonzero(canvas > 0.5)
    centre = lb.canvas_to_norm(np.array([xs.mean() + 0.5, ys.mean() + 0.5]))
    np.testing.assert_allclose(centre, [410 / 600, 110 / 300], atol=1.0 / 128)
    back = lb.invert(canvas)
    assert back.shape == img.shape
    ys, xs = np.nonzero(back > 0.5)
    np.testing.assert_allclose([xs.mean(), ys.mean()], [409.5, 109.5], atol=3)


def test_letterbox_rejects_wrong_shapes():
    lb = Letterbox.fit(100, 50, 64)
    with pytest.raises(ValueError, match="does not match"):
        lb.apply(np.zeros((64, 64)))
    with pytest.raises(ValueError, match="does not match"):
        lb.invert(np.zeros((50, 100)))
    with pytest.raises(ValueError, match="positive"):
        Letterbox.fit(0, 10, 10)


def test_resize_image_nearest_keeps_dtype_and_labels():
    lab = np.array([[0, 1], [2, 3]], dtype=np.uint8)
    out = resize_image(lab, 4, 4, order=0)
    assert out.dtype == np.uint8
    assert set(np.unique(out)) == {0, 1, 2, 3}


def test_large_images_are_block_reduced_before_resizing_without_moving_anything():
    # a 2048 px image shrunk to 128: pre-reduced by 8x8 block means, then anti-aliased
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:2048, 0:2048]
    img = ((xx // 256 + yy // 256) % 2).astype(np.float32) + rng.normal(0, 0.05, (2048, 2048)).astype(np.float32)
    out = resize_image(img, 128, 128)
    assert out.shape == (128, 128) and out.dtype == np.float32
    # each 256 px checker square is 16 output pixels: their centres keep the square's value
    centres = out[8::16, 8::16]
    expected = ((np.arange(8)[None] + np.arange(8)[:, None]) % 2).astype(np.float32)
    np.testing.assert_allclose(centres, expected, atol=0.05)
    # and the edges stay where they were: a square's first/last output pixels are still its own
    assert abs(out[8, 15] - expected[0, 0]) < 0.35 and abs(out[8, 16] - expected[0, 1]) < 0.35
    # small images take the plain path (goldens computed at 512 px do not change)
    small = img[:512, :512]
    from skimage.transform import resize as sk_resize

    ref = sk_resize(small, (128, 128), order=1, mode="edge", anti_aliasing=True, preserve_range=True)
    np.testing.assert_allclose(resize_image(small, 128, 128), ref.astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("shape", [(2048, 2048), (1955, 1841)])
def test_block_reduced_resize_agrees_with_a_direct_resize(shape):
    # divisible or not (the real JPEG 2000 DICOM is 1955 x 1841): same geometry, same values
    # up to the slightly different low-pass filter
    from skimage.transform import resize as sk_resize

    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    img = np.sin(xx / 97.0) + np.cos(yy / 61.0) + 0.002 * xx  # smooth, with a gradient
    out = resize_image(img, 256, 256)
    ref = sk_resize(img, (256, 256), order=1, mode="edge", anti_aliasing=True, preserve_range=True)
    assert out.shape == (256, 256) and out.dtype == np.float32
    assert np.abs(out - ref).max() < 0.01  # a shift of one original pixel would cost ~0.012
