"""``python -m recoup.invoices.pdf``: golden files (see :mod:`recoup.invoices.pdf.golden`)."""

from recoup.invoices.pdf.golden import main

raise SystemExit(main())
