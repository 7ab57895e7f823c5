"""Checking and diagnosing gradients.

``gradcheck`` (central differences at every index), ``detect_anomaly`` (the first NaN/Inf in forward
or backward raises, naming the gate and the line of your code that made it), ``grad_flow`` (each
parameter's gradient norm: vanishing and exploding gradients at a glance) and ``receptive_field``
(size, jump and start per layer of a CNN).
"""
from .anomaly import AnomalyError, detect_anomaly
from .flow import EXPLODING, VANISHING, grad_flow, grad_flow_report
from .gradcheck import GradcheckError, gradcheck, gradcheck_gates
from .gradgradcheck import gradgradcheck
from .receptive_field import receptive_field, receptive_field_report

__all__ = [
    "gradcheck", "gradcheck_gates", "gradgradcheck", "GradcheckError", "detect_anomaly", "AnomalyError", "grad_flow", "grad_flow_report",
    "receptive_field", "receptive_field_report", "VANISHING", "EXPLODING",
]
