"""Schemathesis hooks for tests/integration/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

The caller's own user id is kept out of generated path parameters: revoking or rotating one's own token is
allowed, and would turn the rest of that role's run into 401s, which tests nothing.
"""

import os

import schemathesis

OWN_USER_ID = int(os.environ.get("MATCHMAKER_ST_OWN_USER_ID", "0"))


@schemathesis.hook
def filter_path_parameters(ctx, path_parameters):
    return not path_parameters or str(path_parameters.get("user_id")) != str(OWN_USER_ID)


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    # The coverage phase builds its own values past the filter above: send those to the next user instead.
    # (Values arrive as text or as numbers, depending on the phase.)
    if case.path_parameters and str(case.path_parameters.get("user_id")) == str(OWN_USER_ID):
        case.path_parameters["user_id"] = OWN_USER_ID + 1
