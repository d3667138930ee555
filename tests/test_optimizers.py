"""`pallets_keras.optimizers.Adam`: the same update on every backend when a
palette colour's embedding row is used by many pixels."""

import keras
import numpy as np
import pytest

from pallets_keras import zoo
from pallets_keras.optimizers import Adam


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="only TensorFlow makes sparse (IndexedSlices) gradients")
def test_sparse_gradient_with_repeated_rows_gets_the_dense_update():
    import tensorflow as tf

    def two_steps(optimizer, densify):
        variable = keras.Variable(np.ones((3, 2), "float32"))
        for values in ([[1.0, 2.0], [3.0, 4.0]], [[0.5, -1.0], [2.0, 1.0]]):
            # Row 0 twice: its gradient is the sum of both slices.
            grad = tf.IndexedSlices(tf.constant(values), tf.constant([0, 0]),
                                    tf.constant([3, 2]))
            optimizer.apply([tf.convert_to_tensor(grad) if densify else grad], [variable])
        return keras.ops.convert_to_numpy(variable)

    dense = two_steps(keras.optimizers.Adam(0.1), densify=True)
    np.testing.assert_allclose(two_steps(Adam(0.1), densify=False), dense, rtol=1e-6)
    # Keras' own Adam squares the slices before summing them: another update.
    assert not np.allclose(two_steps(keras.optimizers.Adam(0.1), densify=False), dense)


def test_a_few_steps_from_a_preset_stay_near_it(punks):
    # From the trained preset, three Adam steps at 1e-3 disturb the model
    # (the first step moves every weight by ~1e-3) but it recovers on every
    # backend. With Keras' Adam on TensorFlow the loss went to 2,214 nats.
    model = zoo.load("onehot_conv_ae", compile=False)
    model.compile(optimizer=Adam(1e-3))
    x = {"indices": punks.indices[:128].astype("int32")}
    before = model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["loss"]
    for _ in range(3):
        model.train_on_batch(x)
    after = model.evaluate(x, batch_size=128, verbose=0, return_dict=True)["loss"]
    assert before < 5.0
    assert after < 150.0, after
