"""The compiled kernel tier: Numba kernels that train, evaluate and predict with the networks finance trains most.

``Model.fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods use it by themselves when a model fits a
compiled pattern (``deepfin.kernels.program``: a ``Sequential`` model of Dense, Maxout, BatchNormalization,
Activation, Dropout and Flatten layers, with a cross-entropy or squared-error loss, L1/L2 penalties and a
built-in optimizer); every other model runs on the eager engine, which stays the reference the kernels are
tested against. ``deepfin.backend.set_compiled(False)``, or ``DEEPFIN_COMPILED=0`` in the environment, turns
the tier off; ``model.training_path`` says which path a model takes and why.

Kernels compile on first use and are cached on disk (Numba's ``cache=True``): only the first run on a machine
pays for compilation.
"""

from __future__ import annotations

from deepfin import backend
from deepfin.kernels.network import CompiledNetwork, batch_sizes
from deepfin.kernels.program import layers_program, training_setup

__all__ = ["CompiledNetwork", "batch_sizes", "network_for"]


def network_for(model, training: bool = True, one_stream: bool = False) -> CompiledNetwork | str:
    """The compiled twin of ``model`` (for training when ``training``, else for inference), or why it has none.

    Parameters
    ----------
    model : Model
        A built model; for training, a compiled one.
    training : bool, default True
        Build the twin for training (loss and optimizer included), or for inference only.
    one_stream : bool, default False
        Every Dropout layer draws from one stream of uniforms (see ``layers_program``).

    Returns
    -------
    CompiledNetwork or str
        The twin, or a sentence saying why the model runs on the eager engine.
    """
    if not backend.compiled():
        return "the compiled kernels are off (deepfin.backend.set_compiled(False) or DEEPFIN_COMPILED=0)"
    if training and model.computes_own_loss:
        return "the model overrides compute_loss"
    program = layers_program(model, one_stream)
    if isinstance(program, str):
        return program
    if not training:
        return CompiledNetwork(program, None)
    setup = training_setup(model, program)
    if isinstance(setup, str):
        return setup
    return CompiledNetwork(program, setup, model.optimizer)

