"""Subscription delivery: the worker that sends notifications over HTTP (rest-hook)."""

from .worker import DeliveryWorker, start_for

__all__ = ["DeliveryWorker", "start_for"]
