"""Reports: the monthly recovery report for finance (:mod:`.monthly`: data and CSV; :mod:`.xlsx`;
:mod:`.html` with the inline SVG charts of :mod:`.charts`) and the SLA scorecard (:mod:`.sla`).
Recovered amounts themselves come from :func:`recoup.queries.recovered`."""
