"""Records: the canonical record, its validation, and the offence catalogue (pure domain)."""
