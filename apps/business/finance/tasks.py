"""Background work of the finance module: the daily sales totals of closed days."""

from celery import shared_task

from .services import SUMMARY_DAYS_BACK, sales_days_summarize_missing


@shared_task(name="finance.summarize_sales_days")
def summarize_sales_days() -> int:
    """Summarize the sales of the closed days of the last week not summarized yet (yesterday,
    once it has been over ``FINANCE_SUMMARY_LAG_MINUTES``). Returns how many days."""
    return len(sales_days_summarize_missing(days_back=SUMMARY_DAYS_BACK))
