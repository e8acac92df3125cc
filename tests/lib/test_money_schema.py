"""The OpenAPI schema says exactly what the money parser accepts: every amount of the trading, bidding
and deposits API, in requests and responses, is a string with lib.money's pattern."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from lib.money import AMOUNT_MAX_LENGTH, AMOUNT_PATTERN

MONEY = {
    "LotInput": ["estimate", "ceiling_price", "deposit_amount"],
    "Lot": ["estimate", "ceiling_price", "deposit_amount"],
    "BidSubmitInput": ["price"],
    "Bid": ["price"],
    "EvaluationBid": ["price"],
    "EvaluationCandidate": ["price"],
    "Award": ["price"],
    "BankPayment": ["amount"],
    "BankNotification": ["amount"],
    "GuaranteeUpload": ["amount"],
    "Guarantee": ["amount"],
    "Deposit": ["amount", "amount_cny"],
    "SubAccount": ["deposit_amount", "held"],
    "Qualification": ["required_cny", "counted_cny"],
    "Refund": ["principal", "interest", "total"],
    "CurrencyTotals": [
        "custody",
        "sub_accounts",
        "suspense",
        "refunds_payable",
        "forfeited",
        "land_earnest",
        "land_price",
        "interest",
    ],
}


@pytest.fixture(scope="module")
def components() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


@pytest.mark.parametrize(
    ("component", "field"),
    [(component, field) for component, fields in MONEY.items() for field in fields],
)
def test_every_amount_is_documented_as_the_parser_reads_it(components, component, field):
    schema = components[component]["properties"][field]
    assert schema["type"] == "string"
    assert schema["pattern"] == AMOUNT_PATTERN
    assert schema["maxLength"] == AMOUNT_MAX_LENGTH
