"""The audit ledger (SPEC section 6): an RFC 6962 Merkle log with signed C2SP checkpoints.

`log.Ledger` appends (group commit), `reader.LedgerReader` serves checkpoints and proofs,
`verify.verify_log` checks the whole log, `entry.subject_index` names a subject. Import
them from their modules: this package imports nothing, so that the scan workers of
`veil audit verify` (`python -m veil.ledger.scan`) start without SQLAlchemy.
"""
