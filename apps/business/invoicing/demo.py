from apps.support.common.demo import DemoContext, demo_step

from .services import invoices_issue_missing


@demo_step(order=45, name="invoicing.documents")
def issue_documents(context: DemoContext) -> None:
    """The invoices of the demo's paid orders (and credit notes of its refunds), as the sweep
    issues what has none: running it again issues nothing new."""
    invoices_issue_missing()
