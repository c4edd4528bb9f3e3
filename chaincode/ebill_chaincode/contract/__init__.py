"""The fiscal e-bill contract (issuance and verification slice)."""

from .bills import contract

__all__ = ["contract"]
