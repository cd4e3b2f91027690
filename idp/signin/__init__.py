"""The sign-in engine: the SSO session (session.py), the protocol-neutral pending request
(pending.py), the ordered steps and their one contract (plan.py, steps.py), the single
gate (gate.py), the path from a request to its answer (engine.py) and the contract the
protocols implement (adapter.py)."""
from .adapter import ProtocolAdapter, adapter_for, register_adapter
from .pending import PendingAuthorization
from .plan import SignInContext, Step, first_needed_step, register_step

__all__ = ["PendingAuthorization", "ProtocolAdapter", "SignInContext", "Step",
           "adapter_for", "first_needed_step", "register_adapter", "register_step"]
