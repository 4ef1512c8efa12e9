"""A known-good row to vary in example tests."""

from __future__ import annotations

from veil.records.idnumber import with_check_digit

# A man born 1990-03-07 in Chaoyang District, Beijing (region 110105).
ID_NUMBER = with_check_digit("11010519900307001")


def good_row(**changes: str) -> dict[str, str]:
    row = {
        "source": "110105-PSB",
        "record_id": "2024-0001",
        "id_number": ID_NUMBER,
        "alt_id": "",
        "name": "张伟",
        "birth_date": "1990-03-07",
        "sex": "M",
        "kind": "admin_violation",
        "offence_code": "PSAPL-43-BEAT",
        "offence_date": "2024-05-01",
        "decision_date": "2024-05-10",
        "completion_date": "2024-05-20",
        "disposition": "detention",
        "detention_days": "10",
        "sentence_months": "",
        "fine_yuan": "",
        "status": "effective",
    }
    row.update(changes)
    return row
