from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..fields import NewPasswordTwice, new_password_pair


def forced_change_form(informal: bool, is_current: Callable[[str], bool], **kwargs):
    """The new password twice ("tu" for a pupil), under the policy, not the current one."""

    class ForcedChangeForm(NewPasswordTwice, FlaskForm):
        password, password_confirm = new_password_pair(informal)

        def check_new_password(self) -> bool:
            if not super().check_new_password():
                return False
            if is_current(self.password.data):
                self.password.errors = list(self.password.errors) + [str(
                    _l("Choisis un mot de passe différent de l'ancien.") if informal
                    else _l("Choisissez un mot de passe différent de l'ancien."))]
                return False
            return True

    return ForcedChangeForm(**kwargs)
