"""Callbacks with Keras's names and behaviour: ``from deepfin.callbacks import EarlyStopping``."""

from deepfin.callbacks.base import Callback, CallbackList, History
from deepfin.callbacks.early_stopping import EarlyStopping
from deepfin.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from deepfin.callbacks.logging import CSVLogger, LambdaCallback, TerminateOnNaN
from deepfin.callbacks.model_checkpoint import ModelCheckpoint
from deepfin.callbacks.monitor import MonitorCallback
from deepfin.callbacks.tensorboard import TensorBoard

__all__ = [
    "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
    "LearningRateScheduler", "ModelCheckpoint", "MonitorCallback", "ReduceLROnPlateau", "TensorBoard",
    "TerminateOnNaN",
]
