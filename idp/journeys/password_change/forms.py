from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..fields import NewPasswordTwice, new_password_pair


def forced_change_form(informal: bool, is_current: Callable[[str], bool], **kwargs):
    """The new password twice ("tu" for a pupil), under the policy, not the current one."""

    class ForcedChangeForm(NewPasswordTwice, FlaskForm):
        password, password_confirm = new_password_pair(informal)

        def same_as_current(self):
            return (_l("Choisis un mot de passe différent de l'ancien.") if self.informal
                    else _l("Choisissez un mot de passe différent de l'ancien."))

    ForcedChangeForm.informal = informal
    return ForcedChangeForm(is_current=is_current, **kwargs)
