"""Small learnable synthetic tasks for the engine tests (kept deterministic by seeds)."""
import numpy as np


def prototype_task(n_classes: int, n_samples: int, input_dim: int, seed: int = 0, per_class: int = 6,
                   kept: int = 5, noise: int = 2):
    """Each class owns `per_class` random feature ids; a sample takes `kept` of its class's
    features plus `noise` random ones. Returns (indices uint32, offsets int64, labels int64)."""
    rng = np.random.default_rng(seed)
    proto = rng.integers(0, input_dim, (n_classes, per_class))
    labels = rng.integers(0, n_classes, n_samples)
    pick = rng.random((n_samples, per_class)).argsort(axis=1)[:, :kept]
    feats = np.take_along_axis(proto[labels], pick, axis=1)
    noise_ids = rng.integers(0, input_dim, (n_samples, noise))
    indices = np.concatenate([feats, noise_ids], axis=1).astype(np.uint32).ravel()
    offsets = np.arange(0, (kept + noise) * n_samples + 1, kept + noise, dtype=np.int64)
    return indices, offsets, labels


def batches(indices, offsets, labels, batch_size):
    """Yields (indices, offsets, label_indices, label_offsets) slices of a CSR dataset."""
    n = len(offsets) - 1
    for b in range(0, n, batch_size):
        e = min(n, b + batch_size)
        yield (indices[offsets[b]:offsets[e]], offsets[b:e + 1] - offsets[b], np.asarray(labels[b:e]),
               np.arange(e - b + 1, dtype=np.int64))


def train(net, indices, offsets, labels, epochs=1, batch_size=256):
    loss = None
    for _ in range(epochs):
        for x_idx, x_off, y, y_off in batches(indices, offsets, labels, batch_size):
            loss = net.train_batch(x_idx, None, x_off, y, y_off)
        net.end_epoch()
    return loss
