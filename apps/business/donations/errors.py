"""Error codes of the donations module."""

CAMPAIGN_NOT_FOUND = "campaign_not_found"
CAMPAIGN_CLOSED = "campaign_closed"
AMOUNT_OUT_OF_RANGE = "amount_out_of_range"
CURRENCY_NOT_SOLD = "currency_not_sold"
DONATION_QUANTITY = "donation_quantity"
SUGGESTED_AMOUNT_OUT_OF_RANGE = "suggested_amount_out_of_range"
RECEIPT_UNAVAILABLE = "receipt_unavailable"
