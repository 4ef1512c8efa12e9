"""Words for the data's identifiers (categories, dispositions, rule effects) on the pages.

English msgids, translated when rendered; a test holds these to cover every identifier the
offence and disposition catalogues use.
"""

from __future__ import annotations

from veil.web.language import N_

CATEGORIES = {
    "sexual": N_("sexual offences"),
    "child_abuse": N_("child abuse"),
    "trafficking": N_("trafficking"),
    "violence": N_("violence"),
    "drug": N_("drugs"),
    "theft": N_("theft"),
    "fraud": N_("fraud"),
    "gambling": N_("gambling"),
    "prostitution": N_("prostitution"),
    "public_order": N_("public order"),
    "traffic": N_("traffic"),
    "other": N_("other offences"),
}

DISPOSITIONS = {
    "warning": N_("warning"),
    "fine": N_("fine"),
    "detention": N_("detention"),
    "public_surveillance": N_("public surveillance"),
    "imprisonment": N_("fixed-term imprisonment"),
    "probation": N_("suspended sentence"),
    "life_imprisonment": N_("life imprisonment"),
    "death": N_("death penalty"),
    "exempted": N_("exempted from punishment"),
    "non_prosecution": N_("non-prosecution"),
    "not_criminally_liable": N_("not criminally liable"),
    "registration": N_("drug-use registration"),
    "community_drug_treatment": N_("community drug treatment"),
    "compulsory_isolation": N_("compulsory isolated treatment"),
}

EFFECTS = {
    "seal": N_("Seals the record"),
    "unseal": N_("Unseals the record"),
}

# What kind of record it is, and its seal state, in words (never colour alone).
KINDS = {
    "criminal": N_("Criminal case"),
    "admin_violation": N_("Administrative violation"),
    "drug_registration": N_("Drug-use registration"),
}
SEAL_STATES = {
    "sealed": N_("Sealed"),
    "open": N_("Not sealed"),
    "unsealed": N_("Unsealed: the seal was lifted"),
}
