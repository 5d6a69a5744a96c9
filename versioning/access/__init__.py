"""Who is asking: teams, members, API keys and the principal a request acts as.

`identities.py` manages teams and members, `keys.py` API keys (made, listed, revoked, and turned
back into a principal on each request). The role matrix and the read/write checks that every
path composes come with the policy module (issue 8).
"""
