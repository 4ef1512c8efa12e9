"""The only door (SPEC section 4): who asks, for what purpose, and what that purpose allows.

Every read of record data for a requester goes through `Door.disclose`; the policy decision
point (`pdp`) asks the Cedar policies in `policies/`, and the audit ledger records the
decision before any record data leaves.
"""
