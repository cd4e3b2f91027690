"""The sign-in engine: the SSO session (session.py), the protocol-neutral pending request
(pending.py), the ordered steps and their one contract (plan.py, steps.py), the single
gate (gate.py), the path from a request to its answer (engine.py), the contract the
protocols implement (adapter.py, looked up through registry.py) and the one way to end
every session of an account (account_sessions.py)."""
from .account_sessions import end_account_sessions
from .adapter import ProtocolAdapter, RequestRefused, register_adapter
from .pending import PendingAuthorization
from .plan import SignInContext, Step, first_needed_step, register_step
from .registry import adapter_for, adapters

__all__ = ["PendingAuthorization", "ProtocolAdapter", "RequestRefused", "SignInContext",
           "Step", "adapter_for", "adapters", "end_account_sessions", "first_needed_step",
           "register_adapter", "register_step"]
