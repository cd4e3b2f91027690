"""The sign-in plan: a protocol-neutral pending request, ordered steps, one gate."""
from .pending import PendingAuthorization
from .plan import Step, register_step, first_needed_step, SignInContext

__all__ = ["PendingAuthorization", "Step", "register_step", "first_needed_step",
           "SignInContext"]
