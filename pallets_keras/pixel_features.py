"""A label-free feature space for sample quality on any pixel set.

The punk judge (`pallets_keras.judge`) needs CryptoPunks labels. Fine-tuned
models on a user's sprites have none, so their samples are compared with the
real images in a feature space every pixel set has: the images' colours,
alpha-premultiplied (a clear pixel is the same whatever RGB it stores), at
full resolution and 2x2-average-pooled, projected by a PCA fitted on real
images (scikit-learn). Distances there are Euclidean distances between
images, dominated by their large structures. This is the "pixel space"
baseline of the precision/recall papers (Kynkäänniemi et al. 2019 show it
tracks the same trends as network features on simple images); it says
whether samples sit among real images and cover them, not whether they are
semantically right.
"""

import numpy as np

from pallets_keras.errors import PalletsValueError

DEFAULT_COMPONENTS = 64


class PixelFeatures:
    """PCA of alpha-premultiplied RGBA pixels, fitted on real images.

    Args:
        palette: `Palette` of the images.
        n_components: int, the feature dimension (capped by the number of
            images and pixels the PCA is fitted on).
        seed: int, seeds the randomized PCA solver.

    Example:
    >>> from pallets_keras import Palette
    >>> palette = Palette(np.array([[0, 0, 0, 0], [255, 0, 0, 255]], "uint8"))
    >>> sprites = np.random.default_rng(0).integers(0, 2, (50, 8, 8)).astype("uint8")
    >>> features = PixelFeatures(palette, n_components=16).fit(sprites)
    >>> features(sprites[:3]).shape  # then sample_quality(features(real), features(fake))
    (3, 16)
    """

    def __init__(self, palette, n_components=DEFAULT_COMPONENTS, seed=0):
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
                or n_components < 1:
            raise PalletsValueError(
                f"n_components must be a positive int, got {n_components!r}.")
        self.palette = palette
        self.n_components = int(n_components)
        self.seed = seed
        self.pca = None

    def pixels(self, images):
        """(N, D) float32 pixel vectors of (N, H, W) uint8 indices or (N, H, W, 4)
        uint8 RGBA images: premultiplied RGBA in [0, 1], then its 2x2 average."""
        images = np.asarray(images)
        if images.ndim == 3:
            rgba = self.palette.decode(images)
        elif images.ndim == 4 and images.shape[-1] == 4:
            rgba = images
        else:
            raise PalletsValueError(
                "PixelFeatures takes (N, H, W) palette indices or (N, H, W, 4) RGBA "
                f"images, got shape {images.shape}.")
        x = rgba.astype("float32") / 255.0
        x = np.concatenate([x[..., :3] * x[..., 3:], x[..., 3:]], axis=-1)
        n, h, w, _ = x.shape
        pooled = x[:, :h - h % 2, :w - w % 2].reshape(n, h // 2, 2, w // 2, 2, 4).mean((2, 4))
        return np.concatenate([x.reshape(n, -1), pooled.reshape(n, -1)], axis=1)

    def fit(self, images):
        """Fits the PCA on real images; returns self."""
        from sklearn.decomposition import PCA

        x = self.pixels(images)
        if len(x) < 2:
            raise PalletsValueError(f"Need at least 2 real images to fit, got {len(x)}.")
        components = min(self.n_components, len(x) - 1, x.shape[1])
        self.pca = PCA(n_components=components, random_state=self.seed).fit(x)
        return self

    def __call__(self, images):
        """(N, n_components) float64 features of indices or RGBA images.

        Raises:
            PalletsValueError: called before `fit`, or images of another size.
        """
        if self.pca is None:
            raise PalletsValueError("PixelFeatures is not fitted: call .fit(real_images) first.")
        x = self.pixels(images)
        if x.shape[1] != self.pca.n_features_in_:
            raise PalletsValueError(
                f"These images give {x.shape[1]} pixel values, the fitted ones gave "
                f"{self.pca.n_features_in_}: use images of the size the features were "
                "fitted on.")
        return self.pca.transform(x).astype("float64")


def pixel_sample_quality(model, train, test, n=1000, seed=0, prior=None, k=5):
    """Sample quality of `model.sample` against `test`, in `PixelFeatures`
    fitted on `train`: for pixel sets without labels (no judge).

    Args:
        model: an unconditional `PaletteAutoencoder` with a latent.
        train: `PixelDataset`, fits the feature space.
        test: `PixelDataset`, the real images compared with.
        n: int, samples drawn. seed: int. prior: optional prior name or object.
        k: int, neighbourhood size.

    Returns:
        dict of floats: "fpd" (Fréchet distance, here in squared feature
        units), "precision", "recall", "density", "coverage", and the same
        for the training images against `test` under "floor_*" (what real
        data scores).
    """
    from pallets_keras.sample_quality import sample_quality

    features = PixelFeatures(train.palette, seed=seed).fit(train.indices)
    real = features(test.indices)
    samples = model.sample(n, seed=seed, prior=prior)
    out = sample_quality(real, features(samples), k)
    rows = np.random.default_rng(seed).choice(len(train), min(n, len(train)), replace=False)
    floor = sample_quality(real, features(train.indices[rows]), k)
    out.update({f"floor_{key}": value for key, value in floor.items()})
    return out
