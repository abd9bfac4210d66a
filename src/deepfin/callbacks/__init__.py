"""Callbacks with Keras's names and behaviour: ``from deepfin.callbacks import EarlyStopping``."""

from deepfin.callbacks.backup_and_restore import BackupAndRestore
from deepfin.callbacks.base import Callback, CallbackList, History
from deepfin.callbacks.early_stopping import EarlyStopping
from deepfin.callbacks.gradient_flow import GradientFlow
from deepfin.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau
from deepfin.callbacks.live_plot import LivePlot
from deepfin.callbacks.logging import CSVLogger, LambdaCallback, TerminateOnNaN
from deepfin.callbacks.model_checkpoint import ModelCheckpoint
from deepfin.callbacks.monitor import MonitorCallback
from deepfin.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "GradientFlow", "History",
    "LambdaCallback", "LearningRateScheduler", "LivePlot", "ModelCheckpoint", "MonitorCallback",
    "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN",
]
