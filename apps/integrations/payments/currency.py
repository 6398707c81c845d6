"""Minor units of ISO 4217 currencies: what gateways count amounts in.

One table for the park and its gateways: ₡2,900.00 is 290000 céntimos, ¥1,500 is 1500 yen,
KWD 4.250 is 4250 fils.
"""

ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX"}
    | {"VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def currency_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (2 for most)."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    return 3 if code in THREE_DECIMAL_CURRENCIES else 2
