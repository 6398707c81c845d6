"""Orders, payments, donations and invoices."""
